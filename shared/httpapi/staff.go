package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/staff"
)

// Staff serves staff profiles: every staff member's own (/me) and, for
// admins, everyone's (/staff).
type Staff struct {
	Service *staff.Service
}

// Register binds a handler to each staff profile route. The routes belong
// to the reminders function, which serves others too, so it binds its own
// routes only; it panics when one of them is missing from the manifest, so
// handler and gateway cannot disagree.
func (h *Staff) Register(api *API) {
	handlers := map[string]HandlerFunc{
		"GET /me":            h.me,
		"PUT /me":            h.putMe,
		"GET /staff":         h.list,
		"GET /staff/{sub}":   h.get,
		"PATCH /staff/{sub}": h.patch,
	}
	for _, r := range manifest.Routes {
		if fn, ok := handlers[r.Key()]; ok {
			api.Handle(r, fn)
			delete(handlers, r.Key())
		}
	}
	for key := range handlers {
		panic("route " + key + " is not in the manifest")
	}
}

// identity is what the caller's token says, in the domain's words.
func identity(c Caller) staff.Identity {
	return staff.Identity{Subject: c.Subject, Email: c.Email, Role: string(c.Highest())}
}

func (h *Staff) me(ctx context.Context, r *Request) (Response, error) {
	p, err := h.Service.Me(ctx, identity(r.Caller))
	if err != nil {
		return Response{}, err
	}
	return profileResponse(p), nil
}

// profileBody is a profile as a client sends it. Pointers tell a field
// left out from one sent empty.
type profileBody struct {
	Name     *string     `json:"name"`
	Email    *string     `json:"email"`
	TimeZone *string     `json:"time_zone"`
	Team     *string     `json:"team"`
	Digest   *digestBody `json:"digest"`
}

type digestBody struct {
	Enabled *bool `json:"enabled"`
	Hour    *int  `json:"hour"`
}

// putMe replaces the caller's settings. Every settable field is required,
// as a PUT replaces the whole; the read-only fields of a profile as read
// (sub, role, version, times) are accepted and ignored, so a client can
// send back what it read with its changes.
func (h *Staff) putMe(ctx context.Context, r *Request) (Response, error) {
	version, err := profileIfMatch(r)
	if err != nil {
		return Response{}, err
	}
	// The fields of profileBody, flat: an embedded struct's name would
	// show up in the field paths of decoding errors.
	var body struct {
		Name      *string         `json:"name"`
		Email     *string         `json:"email"`
		TimeZone  *string         `json:"time_zone"`
		Team      *string         `json:"team"`
		Digest    *digestBody     `json:"digest"`
		Sub       json.RawMessage `json:"sub"`
		Role      json.RawMessage `json:"role"`
		Version   json.RawMessage `json:"version"`
		CreatedAt json.RawMessage `json:"created_at"`
		UpdatedAt json.RawMessage `json:"updated_at"`
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	var v crm.Invalid
	need := func(present bool, field string) {
		if !present {
			v.Add(field, "is required")
		}
	}
	b := profileBody{Name: body.Name, Email: body.Email, TimeZone: body.TimeZone, Team: body.Team, Digest: body.Digest}
	need(b.Name != nil, "name")
	need(b.Email != nil, "email")
	need(b.TimeZone != nil, "time_zone")
	need(b.Team != nil, "team")
	need(b.Digest != nil, "digest")
	if b.Digest != nil {
		need(b.Digest.Enabled != nil, "digest.enabled")
		need(b.Digest.Hour != nil, "digest.hour")
	}
	if err := v.Err(); err != nil {
		return Response{}, err
	}
	set := staff.Settings{Name: *b.Name, Email: *b.Email, TimeZone: *b.TimeZone, Team: *b.Team,
		DigestEnabled: *b.Digest.Enabled, DigestHour: *b.Digest.Hour}
	p, err := h.Service.UpdateMe(ctx, identity(r.Caller), set, version)
	if err != nil {
		return Response{}, err
	}
	return profileResponse(p), nil
}

func (h *Staff) list(ctx context.Context, r *Request) (Response, error) {
	q := r.QueryStringParameters
	f := staff.Filter{Team: q["team"], Role: q["role"], Cursor: q["cursor"]}
	if s := q["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > staff.MaxPage {
			return Response{}, fieldError("limit", "must be a whole number from 1 to 100")
		}
		f.Limit = n
	}
	page, err := h.Service.List(ctx, f)
	if err != nil {
		return Response{}, err
	}
	items := make([]profileJSON, len(page.Items))
	for i, p := range page.Items {
		items[i] = toProfileJSON(p)
	}
	var next *string
	if page.NextCursor != "" {
		next = &page.NextCursor
	}
	return JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": next}), nil
}

func (h *Staff) get(ctx context.Context, r *Request) (Response, error) {
	p, err := h.Service.Profile(ctx, r.PathParameters["sub"])
	if err != nil {
		return Response{}, err
	}
	return profileResponse(p), nil
}

// patch applies an admin's edit; If-Match is required (the service answers
// 428 without it), so no edit is made blind.
func (h *Staff) patch(ctx context.Context, r *Request) (Response, error) {
	version, err := profileIfMatch(r)
	if err != nil {
		return Response{}, err
	}
	var b profileBody
	if err := r.DecodeJSON(&b); err != nil {
		return Response{}, err
	}
	patch := staff.Patch{Name: b.Name, Email: b.Email, TimeZone: b.TimeZone, Team: b.Team}
	if b.Digest != nil {
		patch.DigestEnabled, patch.DigestHour = b.Digest.Enabled, b.Digest.Hour
	}
	p, err := h.Service.Update(ctx, r.PathParameters["sub"], patch, version)
	if err != nil {
		return Response{}, err
	}
	return profileResponse(p), nil
}

// profileIfMatch reads If-Match (0 when absent).
func profileIfMatch(r *Request) (int64, error) {
	v, err := ifMatch(r, false)
	if crm.ErrorCode(err) == crm.EINVALID {
		return 0, fieldError("If-Match", `must be the ETag of the profile, such as "3"`)
	}
	return v, err
}

func profileResponse(p staff.Profile) Response {
	return JSON(http.StatusOK, toProfileJSON(p), "ETag", etag(p.Version))
}

// profileJSON is a staff profile as the API shows it.
type profileJSON struct {
	Sub      string     `json:"sub"`
	Name     string     `json:"name"`
	Email    string     `json:"email"`
	TimeZone string     `json:"time_zone"`
	Team     string     `json:"team"`
	Role     string     `json:"role"`
	Digest   digestJSON `json:"digest"`
	Version  int64      `json:"version"`
	Created  time.Time  `json:"created_at"`
	Updated  time.Time  `json:"updated_at"`
}

type digestJSON struct {
	Enabled bool `json:"enabled"`
	Hour    int  `json:"hour"`
}

func toProfileJSON(p staff.Profile) profileJSON {
	return profileJSON{
		Sub: p.Subject, Name: p.Name, Email: p.Email, TimeZone: p.TimeZone, Team: p.Team, Role: p.Role,
		Digest:  digestJSON{Enabled: p.DigestEnabled, Hour: p.DigestHour},
		Version: p.Version, Created: p.CreatedAt, Updated: p.UpdatedAt,
	}
}
