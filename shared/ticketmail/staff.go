package ticketmail

import (
	"context"
	"errors"
	"strings"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/reminders"
	"github.com/rapportcrm/rapport/shared/sla"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// SLAWarning warns the owner of a ticket whose clock has run 75% of its
// target (the managers while it is unassigned), unless the clock has
// stopped since.
func (n *Notifier) SLAWarning(ctx context.Context, e events.TicketSLAWarning) error {
	t, due, err := n.Tickets.StillDue(ctx, e.TicketSLA)
	if err != nil || !due {
		return err
	}
	to, err := n.ownerOrManagers(ctx, t)
	if err != nil {
		return err
	}
	return n.toStaff(ctx, "sla_warning", e.EventID, t, to, n.slaData("warning", e.TicketSLA))
}

// SLABreached tells the owner and the managers that a clock passed its
// deadline. It goes even if the clock stopped since: late is late.
func (n *Notifier) SLABreached(ctx context.Context, e events.TicketSLABreached) error {
	t, err := n.Tickets.Ticket(ctx, e.TicketID)
	if err != nil {
		return ignoreGone(err)
	}
	owner, err := n.owner(ctx, t.Owner)
	if err != nil {
		return err
	}
	managers, err := n.managers(ctx, t.Team)
	if err != nil {
		return err
	}
	return n.toStaff(ctx, "sla_breached", e.EventID, t, append(owner, managers...), n.slaData("breached", e.TicketSLA))
}

// SLAEscalated tells the admins that a breached clock still runs after
// another half of its target, unless it has stopped since.
func (n *Notifier) SLAEscalated(ctx context.Context, e events.TicketSLAEscalated) error {
	t, due, err := n.Tickets.StillDue(ctx, e.TicketSLA)
	if err != nil || !due {
		return err
	}
	admins, err := n.Staff.WithRole(ctx, Admin, "")
	if err != nil {
		return err
	}
	return n.toStaff(ctx, "sla_escalated", e.EventID, t, admins, n.slaData("escalated", e.TicketSLA))
}

// answered tells the owner (the managers while the ticket is unassigned)
// what the customer answered on their page.
func (n *Notifier) answered(ctx context.Context, eventID string, t ticket.Ticket, entry ticket.Entry) error {
	to, err := n.ownerOrManagers(ctx, t)
	if err != nil {
		return err
	}
	return n.toStaff(ctx, "answered", eventID, t, to, staffData{Body: entry.Body})
}

// slaData is what an SLA mail says of the stage e announces.
func (n *Notifier) slaData(stage string, e events.TicketSLA) staffData {
	clock := "resolution"
	if sla.Kind(e.Clock) == sla.FirstResponse {
		clock = "first response"
	}
	return staffData{Stage: stage, Clock: clock, deadline: e.TargetAt}
}

// ownerOrManagers is the ticket's owner, or the managers while it is
// unassigned or its owner cannot be mailed (no profile, no address).
func (n *Notifier) ownerOrManagers(ctx context.Context, t ticket.Ticket) ([]reminders.Recipient, error) {
	owner, err := n.owner(ctx, t.Owner)
	if err != nil || len(owner) > 0 {
		return owner, err
	}
	return n.managers(ctx, t.Team)
}

// owner is the owner's profile when they can be mailed, or none.
func (n *Notifier) owner(ctx context.Context, sub string) ([]reminders.Recipient, error) {
	if sub == "" {
		return nil, nil
	}
	r, err := n.Staff.Recipient(ctx, sub)
	if err != nil || r.Email == "" {
		return nil, ignoreGone(err)
	}
	return []reminders.Recipient{r}, nil
}

// managers are the managers of team, or all managers when it has none or
// the ticket has no team.
func (n *Notifier) managers(ctx context.Context, team string) ([]reminders.Recipient, error) {
	if team != "" {
		ms, err := n.Staff.WithRole(ctx, Manager, team)
		if err != nil || len(ms) > 0 {
			return ms, err
		}
	}
	return n.Staff.WithRole(ctx, Manager, "")
}

// toStaff renders the staff mail for each recipient once, each in their
// own zone, and sends each once per event; an address listed twice (an
// owner who is also a manager) gets one mail. It tries every recipient
// and returns what failed, so a retry sends only what is left.
func (n *Notifier) toStaff(ctx context.Context, kind, eventID string, t ticket.Ticket, to []reminders.Recipient, data staffData) error {
	template := kind
	if strings.HasPrefix(kind, "sla_") {
		template = "sla"
	}
	ownerName := ""
	if t.Owner != "" {
		if r, err := n.Staff.Recipient(ctx, t.Owner); err == nil {
			ownerName = r.Name
		}
	}
	seen := map[string]bool{}
	var errs []error
	for _, r := range to {
		addr := strings.ToLower(r.Email)
		if addr == "" || seen[addr] {
			continue
		}
		seen[addr] = true
		d := data
		d.fill(t, r, n.AppURL, ownerName, r.ZoneOr(n.OrgZone))
		msg, err := render(template, r.Email, t.ID, d)
		if err == nil {
			err = n.send(ctx, kind, eventID, t.ID, msg)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
