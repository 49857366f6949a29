// Package survey is the surveys domain: CSAT, NPS and CES invitations sent
// by signed single-use links, their answers, the rules of who may be asked
// and when, and the standard scores. It is pure: it imports the standard
// library, the event catalogue, the business calendar and the domain's
// error vocabulary (package crm); the store, the HTTP pages, the mail and
// the clock come from outside.
//
// # The questions
//
// Three standard questions, each with its scale (Question.Scale) and its
// wording for the page and the email (Question.Wording): NPS 0–10, CSAT
// 1–5, CES 1–7. An invitation asks one or more of them; the first is the
// one its email offers as one-click answers and the one an answer must
// give. After a ticket: CSAT then CES. Relationship and manual: NPS by
// default.
//
// # An invitation's life
//
//	Invite ─► scheduled ──Policy.Send──► sent ──CheckAnswer, Record──► answered
//	              │            │           │
//	              │            │           └── ExpiresAt passes ──► expired (derived, never stored)
//	              │            └── opted out, no address or quiet ──┐
//	              └── ticket reopened (Invitation.Cancel) ──────────┴──► cancelled
//
// Step by step:
//
//   - Made. Policy.Invite builds a scheduled invitation with its due
//     instant: an hour after the solve (AfterTicketDue), on the customer's
//     relationship rhythm (RelationshipDue: 30 days after the first
//     conversion, then every 90), or at once (manual). Invitations Rapport
//     makes itself get derived ids (AfterTicketID, RelationshipID), so a
//     redelivered ticket.solved finds its invitation already there. The
//     store writes the invitation with a timer (package timer) at DueAt.
//   - Cancelled. A ticket reopened before the hour cancels its scheduled
//     invitation (Invitation.Cancel with TicketReopened) and the timer, in
//     one write. Cancelled is final and publishes nothing.
//   - Sent. When the timer fires, Policy.Send checks the person again (they
//     may have opted out since) and returns the invitation sent, with
//     SentAt and ExpiresAt = SentAt + LinkLifetime (30 days) — or cancelled,
//     in which case nothing is mailed. The link is signed at sending with
//     links.Survey for the invitation id, expiring at ExpiresAt; the
//     invitation is saved sent with its survey.invited (InvitedEvent) in the
//     same write, and the mail is sent after it. A token is never stored.
//   - Answered. One answer per invitation, ever (below). The answer and its
//     survey.responded (RespondedEvent) are written with the invitation's
//     change to answered.
//   - Expired. A sent invitation past ExpiresAt takes no answer
//     (ErrExpired, which the page serves as 410). Nothing is written when
//     it expires: Invitation.StatusAt derives it.
//
// # Single use
//
// A link works once, and "once" is a property of the invitation, not of the
// token: the same invitation may be signed again (a new key, a reminder),
// and the token itself stays valid until it expires. So the answer is
// recorded by a conditional write on the invitation item — status still
// sent, no answered_at — in the same transaction as the answer and its
// event. Of twenty concurrent POSTs of one link exactly one writes; the
// others find the condition failed and answer ErrAnswered (ECONFLICT,
// "already answered"), which the page shows as a thank-you, never as an
// error the person must act on. CheckAnswer checks the state it was given
// first, so a second POST that reads the answered invitation is refused
// before the form is even read; the conditional write covers the POSTs
// that read it before the first one wrote.
//
// # Who may be invited: the quiet period
//
// Policy.Allow answers for one person, identified by their normalised email
// address (History): never without an address, never once they opted out,
// and never within QuietPeriod (30 days) of another invitation to them,
// whatever made it — an after-ticket CSAT, a relationship NPS or a
// manager's. The period is measured from the other invitation's SentAt, or
// its DueAt while it is scheduled, and counts both ways: an invitation due
// in an hour keeps a new one from going out now. A cancelled invitation
// gives the period back. The store enforces the decision with a
// conditional write on the person's item (their last invitation's id and
// instant, and the opt-out), so two tickets solved at the same moment make
// one invitation, not two. A relationship invitation that falls inside the
// period is due at its end instead (Invite uses EarliestAllowed): the
// rhythm slips, it does not break. An automatic invitation refused
// (Refused) is skipped and counted by reason; a manager's is answered with
// the refusal.
//
// # Why a GET never records an answer
//
// The invitation email offers one-click answers: for NPS, eleven links
// /s/{token}?score=0 … ?score=10. Mail scanners, link previewers and
// security gateways open every link in an email, often before the person
// reads it. If a GET recorded an answer, every NPS invitation would be
// answered 0 — the first link — by a robot. So GET /s/{token} only shows
// the page, with ?score=N (ParseScore) chosen in advance; the person
// confirms with a POST, which is what CheckAnswer reads. The same holds
// for the unsubscribe link: its GET asks, its POST opts out. Neither GET
// writes anything, so a crawler costs a read.
//
// # Answers
//
// CheckAnswer reads the submitted form (or a JSON body in the same shape):
// a score per question under the question's id, and an optional comment,
// markup stripped (crm.CleanText), at most MaxComment characters. It
// returns EINVALID naming each field at fault, and never touches the
// store. The comment stays in the answer; events carry scores and
// whether there was a comment, never its words, nor the address.
//
// # What the pages answer
//
// Verify the token (links.Verify with links.Survey) before any read, then
// load the invitation by the token's id:
//
//   - links.ErrInvalid, no such invitation, or ErrNotSent: 404, the
//     friendly page that reveals nothing.
//   - links.ErrExpired or ErrExpired: 410, the same friendly page saying
//     the survey has closed.
//   - ErrAnswered: the thank-you page (409 to a JSON client); nothing is
//     written or counted again.
//   - EINVALID: the page again, 422, each field's reason beside it and
//     what the person chose kept.
//
// # Closing the loop
//
// A detractor (NPS 0–6) or a dissatisfied CSAT (1–2) makes a follow-up task
// for the invitation's owner (the ticket's or customer's), or the
// unassigned queue the managers watch, due the next working morning on the
// organisation's calendar, with the scores and comment in its note
// (CloseTheLoop).
//
// # Results
//
// A Tally counts answers per question and score, and responses. Tallies
// add up (Merge, Sum): kept per day in the organisation's zone (package
// period), from the same per-score counters the scorecard's rollups keep,
// a week, month or quarter is the sum of its days (period.Days), at the
// same cost for a hundred answers as for a hundred thousand. Results never
// list answers to count them.
// Tally.Score computes the standard scores — NPS = % 9–10 − % 0–6, CSAT =
// % 4–5, CES = the mean — with no value, not zero, when no one answered;
// they are the scorecard's formulas on the same counters.
package survey
