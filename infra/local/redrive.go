package local

// DeadLetters returns how many event deliveries spent their retries and
// wait in the bus's dead-letter queue, as they would in each rule's
// dead-letter queue in AWS.
func (s *Stack) DeadLetters() int { return s.bus.DeadLetters() }

// Redrive hands every dead letter to its consumer again, as an operator
// redrives a dead-letter queue in AWS once its alarm has brought it to
// them, and returns how many it redrove. The deliveries run in the
// background; on a frozen clock the next move waits for them.
func (s *Stack) Redrive() int { return s.bus.Redrive() }
