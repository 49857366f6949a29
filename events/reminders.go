package events

// SourceReminders is the EventBridge source of the events the reminders
// function's timers publish: follow-ups falling due, daily digests.
const SourceReminders = "rapport.reminders"
