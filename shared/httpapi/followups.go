package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/shared/followup"
)

// Followups serves the follow-up tasks: staff plan their day and week,
// make tasks for leads and customers, and do, move, hand over or cancel
// them.
type Followups struct {
	Service *followup.Service
}

// Register binds a handler to each of the followups function's manifest
// routes; it panics when a route has no handler.
func (h *Followups) Register(api *API) {
	handlers := map[string]HandlerFunc{
		"POST /followups":       h.create,
		"GET /followups":        h.list,
		"GET /followups/{id}":   h.get,
		"PATCH /followups/{id}": h.update,
	}
	api.HandleAll("followups", handlers)
}

// dueJSON is how a request says when a task falls due.
type dueJSON struct {
	DueAt    *string `json:"due_at"`
	DueDate  string  `json:"due_date"`
	DueTime  string  `json:"due_time"`
	TimeZone string  `json:"time_zone"`
}

func (d dueJSON) due() (followup.Due, error) {
	out := followup.Due{Date: d.DueDate, Time: d.DueTime, TimeZone: d.TimeZone}
	if d.DueAt != nil {
		t, err := time.Parse(time.RFC3339, *d.DueAt)
		if err != nil {
			return out, fieldError("due_at", "must be an RFC 3339 time such as 2026-12-03T09:00:00Z")
		}
		out.At = &t
	}
	return out, nil
}

func (h *Followups) create(ctx context.Context, r *Request) (Response, error) {
	var body struct {
		Subject string `json:"subject"`
		Note    string `json:"note"`
		Owner   string `json:"owner"`
		dueJSON
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	due, err := body.due()
	if err != nil {
		return Response{}, err
	}
	owner := body.Owner
	if owner == "me" {
		owner = r.Caller.Subject
	}
	t, err := h.Service.Create(ctx, r.Caller.Subject, followup.NewTask{Subject: body.Subject, Due: due, Note: body.Note, Owner: owner})
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusCreated, toFollowupJSON(t), "ETag", etag(t.Version), "Location", "/followups/"+t.ID), nil
}

func (h *Followups) list(ctx context.Context, r *Request) (Response, error) {
	q := r.QueryStringParameters
	pq := followup.PlanQuery{Owner: q["owner"], When: followup.When(q["when"]), Cursor: q["cursor"]}
	switch pq.Owner {
	case "", "me":
		pq.Owner = r.Caller.Subject
	case followup.Unassigned:
		pq.Owner = ""
	}
	if s := q["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return Response{}, fieldError("limit", "must be a whole number from 1 to 100")
		}
		pq.Limit = n
	}
	page, err := h.Service.Plan(ctx, pq)
	if err != nil {
		return Response{}, err
	}
	items := make([]followupJSON, len(page.Tasks))
	for i, t := range page.Tasks {
		items[i] = toFollowupJSON(t)
	}
	var next *string
	if page.Next != "" {
		next = &page.Next
	}
	return JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": next}), nil
}

func (h *Followups) get(ctx context.Context, r *Request) (Response, error) {
	t, err := h.Service.Task(ctx, r.PathParameters["id"])
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, toFollowupJSON(t), "ETag", etag(t.Version)), nil
}

func (h *Followups) update(ctx context.Context, r *Request) (Response, error) {
	version, err := ifMatch(r, true)
	if err != nil {
		return Response{}, err
	}
	var body struct {
		Status *string `json:"status"`
		Note   *string `json:"note"`
		Owner  *string `json:"owner"`
		dueJSON
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	due, err := body.due()
	if err != nil {
		return Response{}, err
	}
	c := followup.Change{Note: body.Note, Owner: body.Owner, Due: due}
	if c.Owner != nil && *c.Owner == "me" {
		c.Owner = &r.Caller.Subject
	}
	if body.Status != nil {
		st := followup.Status(*body.Status)
		if st != followup.StatusDone && st != followup.StatusCancelled {
			return Response{}, fieldError("status", "must be done or cancelled")
		}
		c.Status = &st
	}
	t, err := h.Service.Update(ctx, r.Caller.Subject, r.PathParameters["id"], version, c)
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, toFollowupJSON(t), "ETag", etag(t.Version)), nil
}

// followupJSON is a task as the API shows it.
type followupJSON struct {
	ID        string          `json:"id"`
	Subject   string          `json:"subject"`
	Kind      followup.Kind   `json:"kind"`
	Note      string          `json:"note"`
	Owner     *string         `json:"owner"`
	DueAt     time.Time       `json:"due_at"`
	Status    followup.Status `json:"status"`
	DoneAt    *time.Time      `json:"done_at"`
	CreatedBy *string         `json:"created_by"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Version   int64           `json:"version"`
}

func toFollowupJSON(t followup.Task) followupJSON {
	orNil := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return followupJSON{
		ID: t.ID, Subject: t.Subject.String(), Kind: t.Kind, Note: t.Note, Owner: orNil(t.Owner),
		DueAt: t.DueAt.UTC(), Status: t.Status, DoneAt: t.DoneAt, CreatedBy: orNil(t.CreatedBy),
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(), Version: t.Version,
	}
}

// OpenFollowups reads the open follow-up tasks of a lead or customer, to
// show with it.
type OpenFollowups interface {
	OpenFor(ctx context.Context, s followup.Subject) ([]followup.Task, error)
}

// openFollowupsJSON lists the open tasks about subject; none when the
// handler has no reader.
func openFollowupsJSON(ctx context.Context, r OpenFollowups, s followup.Subject) ([]followupJSON, error) {
	out := []followupJSON{}
	if r == nil {
		return out, nil
	}
	tasks, err := r.OpenFor(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		out = append(out, toFollowupJSON(t))
	}
	return out, nil
}
