package events_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rapportcrm/rapport/events"
)

// roundTrips holds one golden round trip per detail type; the catalogue test
// checks that it covers the whole catalogue.
var roundTrips = map[string]func(t *testing.T, sample []byte){
	events.LeadCapturedType:     roundTrip[events.LeadCaptured],
	events.LeadUpdatedType:      roundTrip[events.LeadUpdated],
	events.LeadConvertedType:    roundTrip[events.LeadConverted],
	events.PurchaseRecordedType: roundTrip[events.PurchaseRecorded],

	events.FollowupCreatedType:   roundTrip[events.FollowupCreated],
	events.FollowupDueType:       roundTrip[events.FollowupDue],
	events.FollowupOverdueType:   roundTrip[events.FollowupOverdue],
	events.FollowupCompletedType: roundTrip[events.FollowupCompleted],
	events.FollowupCancelledType: roundTrip[events.FollowupCancelled],
	events.StaffDigestDueType:    roundTrip[events.StaffDigestDue],

	events.TicketOpenedType:       roundTrip[events.TicketOpened],
	events.TicketUpdatedType:      roundTrip[events.TicketUpdated],
	events.TicketRepliedType:      roundTrip[events.TicketReplied],
	events.TicketSolvedType:       roundTrip[events.TicketSolved],
	events.TicketReopenedType:     roundTrip[events.TicketReopened],
	events.TicketClosedType:       roundTrip[events.TicketClosed],
	events.TicketSLAWarningType:   roundTrip[events.TicketSLAWarning],
	events.TicketSLABreachedType:  roundTrip[events.TicketSLABreached],
	events.TicketSLAEscalatedType: roundTrip[events.TicketSLAEscalated],
	events.TicketCloseDueType:     roundTrip[events.TicketCloseDue],
	events.SurveyDueType:          roundTrip[events.SurveyDue],

	events.SurveyInvitedType:   roundTrip[events.SurveyInvited],
	events.SurveyRespondedType: roundTrip[events.SurveyResponded],
	events.SurveyOptedOutType:  roundTrip[events.SurveyOptedOut],
}

// TestSampleRoundTrip decodes each sample EventBridge event into its typed
// Event, encodes it again and expects the same JSON, as aws-lambda-go's
// events/sqs_test.go does: a field the struct lacks, misnames or drops
// fails here.
func TestSampleRoundTrip(t *testing.T) {
	for _, d := range events.Catalogue() {
		t.Run(d.DetailType(), func(t *testing.T) {
			rt, ok := roundTrips[d.DetailType()]
			if !ok {
				t.Fatalf("no round trip for %s: add it to roundTrips", d.DetailType())
			}
			rt(t, readSample(t, d.DetailType()))
		})
	}
}

func roundTrip[D events.Detail](t *testing.T, sample []byte) {
	t.Helper()
	var e events.Event[D]
	dec := json.NewDecoder(bytes.NewReader(sample))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("decode sample: %v", err)
	}
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	assertJSONEqual(t, sample, out)

	var zero D
	if e.Source != zero.EventSource() || e.DetailType != zero.DetailType() {
		t.Errorf("sample has source %q detail-type %q, want %q %q", e.Source, e.DetailType, zero.EventSource(), zero.DetailType())
	}
	if e.Detail.Meta().EventID == "" || e.Detail.Meta().OccurredAt.IsZero() {
		t.Errorf("sample detail has no event_id or occurred_at: %+v", e.Detail.Meta())
	}
}

// TestMalformedSample checks that a detail of the wrong shape is an error,
// not a silently empty struct.
func TestMalformedSample(t *testing.T) {
	var e events.Event[events.LeadCaptured]
	if err := json.Unmarshal([]byte(`{"detail":{"has_email":"yes"}}`), &e); err == nil {
		t.Fatal("decoding a string into has_email succeeded")
	}
}

// TestSamplesMatchSchemas validates each sample's detail against its
// detail type's schema, and checks that the schemas reject what they must.
func TestSamplesMatchSchemas(t *testing.T) {
	for _, d := range events.Catalogue() {
		t.Run(d.DetailType(), func(t *testing.T) {
			sch := compileSchema(t, d.DetailType())
			detail := sampleDetail(t, d.DetailType())
			if err := sch.Validate(detail); err != nil {
				t.Fatalf("sample does not match its schema: %v", err)
			}

			missing := maps.Clone(detail)
			delete(missing, "event_id")
			if sch.Validate(missing) == nil {
				t.Error("schema accepts a detail without event_id")
			}
			badTime := maps.Clone(detail)
			badTime["occurred_at"] = "yesterday"
			if sch.Validate(badTime) == nil {
				t.Error("schema accepts occurred_at that is not a date-time")
			}
		})
	}
}

// TestTicketSchemasRefusePersonalData checks that no ticket schema lets a
// requester's name, address, subject or message through, at the top or
// inside an SLA clock, and that a clock's status is one the domain knows.
func TestTicketSchemasRefusePersonalData(t *testing.T) {
	for _, d := range events.Catalogue() {
		if d.EventSource() != events.SourceTickets {
			continue
		}
		t.Run(d.DetailType(), func(t *testing.T) {
			sch := compileSchema(t, d.DetailType())
			detail := sampleDetail(t, d.DetailType())
			for _, field := range []string{"name", "email", "phone", "subject", "message", "body"} {
				leaky := maps.Clone(detail)
				leaky[field] = "Ada Lovelace <ada@example.com>"
				if sch.Validate(leaky) == nil {
					t.Errorf("schema accepts a detail with %q", field)
				}
			}
			clock, ok := detail["first_response"].(map[string]any)
			if !ok {
				return
			}
			leaky := maps.Clone(detail)
			leaky["first_response"] = maps.Clone(clock)
			leaky["first_response"].(map[string]any)["note"] = "called back"
			if sch.Validate(leaky) == nil {
				t.Error("schema accepts an SLA clock with a field it does not describe")
			}
			odd := maps.Clone(detail)
			odd["first_response"] = maps.Clone(clock)
			odd["first_response"].(map[string]any)["status"] = "late"
			if sch.Validate(odd) == nil {
				t.Error("schema accepts an SLA clock status the domain has not")
			}
		})
	}
}

// TestSurveySchemasRefusePersonalData checks that no survey schema lets the
// person's address or name, or the comment's words, through, and that
// survey.responded holds each score to its question's scale.
func TestSurveySchemasRefusePersonalData(t *testing.T) {
	for _, d := range events.Catalogue() {
		if d.EventSource() != events.SourceSurveys {
			continue
		}
		t.Run(d.DetailType(), func(t *testing.T) {
			sch := compileSchema(t, d.DetailType())
			detail := sampleDetail(t, d.DetailType())
			for _, field := range []string{"email", "name", "comment", "message", "body"} {
				leaky := maps.Clone(detail)
				leaky[field] = "Ada Lovelace <ada@example.com>"
				if sch.Validate(leaky) == nil {
					t.Errorf("schema accepts a detail with %q", field)
				}
			}
		})
	}

	sch := compileSchema(t, events.SurveyRespondedType)
	detail := sampleDetail(t, events.SurveyRespondedType)
	for _, tc := range []struct {
		answer any
		ok     bool
	}{
		{map[string]any{"question": "nps", "score": 0}, true},
		{map[string]any{"question": "nps", "score": 10}, true},
		{map[string]any{"question": "nps", "score": 11}, false},
		{map[string]any{"question": "nps", "score": -1}, false},
		{map[string]any{"question": "csat", "score": 1}, true},
		{map[string]any{"question": "csat", "score": 0}, false},
		{map[string]any{"question": "csat", "score": 6}, false},
		{map[string]any{"question": "ces", "score": 7}, true},
		{map[string]any{"question": "ces", "score": 8}, false},
		{map[string]any{"question": "ces", "score": 4.5}, false},
		{map[string]any{"question": "effort", "score": 3}, false},
		{map[string]any{"question": "ces", "score": 3, "comment": "slow"}, false},
		{map[string]any{"question": "ces"}, false},
	} {
		d := maps.Clone(detail)
		d["answers"] = []any{tc.answer}
		if err := sch.Validate(d); (err == nil) != tc.ok {
			t.Errorf("answer %v: valid = %v, want %v (%v)", tc.answer, err == nil, tc.ok, err)
		}
	}
	none := maps.Clone(detail)
	none["answers"] = []any{}
	if sch.Validate(none) == nil {
		t.Error("schema accepts a response without answers")
	}
}

// TestWrappedDetailsMatchSchemas checks what the store really writes — a
// detail built in Go and wrapped — against the schema, minimal and full.
func TestWrappedDetailsMatchSchemas(t *testing.T) {
	at := time.Date(2026, 5, 4, 9, 30, 12, 345e6, time.FixedZone("CEST", 2*3600))
	meta := events.Metadata{EventID: "01JTC9W3M8Q4R7Y2K5N6P1V0XA", OccurredAt: at}
	followup := events.Followup{FollowupID: "F1", SubjectKind: "lead", SubjectID: "L1", Kind: "task", Owner: "agent-1", DueAt: at}
	unassigned := events.Ticket{TicketID: "T1", Kind: "request", Priority: "normal", Channel: "web", OpenedAt: at}
	assigned := events.Ticket{TicketID: "T1", Kind: "complaint", Priority: "urgent", Channel: "phone", Category: "billing",
		CustomerID: "C1", Owner: "agent-2", Team: "support", OpenedAt: at}
	running := events.SLAClock{Status: "running", TargetAt: &at}
	met := events.SLAClock{Status: "met", TargetAt: &at, ElapsedBusinessSeconds: 1800, StoppedAt: &at}
	manual := events.SurveyInvitation{InvitationID: "I1", Reason: "manual", Questions: []string{"nps"}, SentAt: at}
	afterTicket := events.SurveyInvitation{InvitationID: "I1", Reason: "after_ticket", Questions: []string{"csat", "ces"},
		CustomerID: "C1", TicketID: "T1", Owner: "agent-2", Team: "support", SentAt: at}
	details := []events.Detail{
		events.LeadCaptured{Metadata: meta, LeadID: "L1", Attribution: events.Attribution{Source: "website"}, CapturedAt: at},
		events.LeadUpdated{Metadata: meta, LeadID: "L1", Source: "website", Changes: []string{"status"}, Status: "lost", PreviousStatus: "qualified", LostReason: "budget", CapturedAt: at, Version: 3},
		events.LeadUpdated{Metadata: meta, LeadID: "L1", Source: "website", Changes: []string{"first_contact"}, Status: "new", CapturedAt: at, FirstContactAt: &at, Version: 2},
		events.LeadConverted{Metadata: meta, LeadID: "L1", CustomerID: "C1", Source: "website", DealValue: events.Money{Minor: 0, Currency: "EUR"}, CapturedAt: at, ConvertedAt: at},
		events.PurchaseRecorded{Metadata: meta, PurchaseID: "P1", CustomerID: "C1", Amount: events.Money{Minor: 0, Currency: "JPY"}, PurchasedAt: at},
		events.PurchaseRecorded{Metadata: meta, PurchaseID: "P1", CustomerID: "C1", Amount: events.Money{Minor: 4990, Currency: "EUR"}, PurchasedAt: at, RepeatCustomer: true, Owner: "agent-1"},
		events.FollowupCreated{Metadata: meta, Followup: followup},
		events.FollowupDue{Metadata: meta, Followup: events.Followup{FollowupID: "F1", SubjectKind: "customer", SubjectID: "C1", Kind: "check_in", DueAt: at}},
		events.FollowupOverdue{Metadata: meta, Followup: followup},
		events.FollowupCompleted{Metadata: meta, Followup: followup, DoneAt: at, OnTime: false},
		events.FollowupCancelled{Metadata: meta, Followup: followup},
		events.StaffDigestDue{Metadata: meta, Subject: "4f1c2b7e", TimeZone: "Europe/Berlin", DigestHour: 0},
		events.TicketOpened{Metadata: meta, Ticket: unassigned, FirstResponse: running, Resolution: running},
		events.TicketOpened{Metadata: meta, Ticket: assigned, FirstResponse: running, Resolution: running, FollowsTicketID: "T0"},
		events.TicketUpdated{Metadata: meta, Ticket: unassigned, Version: 2, Changes: []string{"owner"}, Status: "new", PreviousOwner: "agent-1"},
		events.TicketUpdated{Metadata: meta, Ticket: assigned, Version: 5, Changes: []string{"priority", "kind", "category", "owner", "status"},
			Status: "closed", PreviousStatus: "on_hold", PreviousPriority: "low", PreviousOwner: "agent-1"},
		events.TicketReplied{Metadata: meta, Ticket: unassigned, ReplyID: "E1", By: "staff", Public: false, RepliedAt: at},
		events.TicketReplied{Metadata: meta, Ticket: assigned, ReplyID: "E1", By: "staff", Public: true, FirstResponse: true,
			FirstResponseSLA: "breached", FirstResponseSeconds: 30600, RepliedAt: at},
		events.TicketSolved{Metadata: meta, Ticket: unassigned, SolvedAt: at, FirstResponseStopped: true, FirstResponse: met, Resolution: met},
		events.TicketReopened{Metadata: meta, Ticket: assigned, By: "staff", SolvedAt: at, ReopenedAt: at},
		events.TicketClosed{Metadata: meta, Ticket: assigned, SolvedAt: at, ClosedAt: at, By: "staff",
			FirstResponse: met, Resolution: events.SLAClock{Status: "met", StoppedAt: &at}},
		events.TicketSLAWarning{Metadata: meta, TicketSLA: events.TicketSLA{Ticket: unassigned, Clock: "first_response", TargetAt: at, TargetSeconds: 3600}},
		events.TicketSLABreached{Metadata: meta, TicketSLA: events.TicketSLA{Ticket: assigned, Clock: "resolution", TargetAt: at, TargetSeconds: 86400}},
		events.TicketSLAEscalated{Metadata: meta, TicketSLA: events.TicketSLA{Ticket: assigned, Clock: "resolution", TargetAt: at, TargetSeconds: 86400}},
		events.TicketCloseDue{Metadata: meta, TicketID: "T1", SolvedAt: at},
		events.SurveyDue{Metadata: meta, InvitationID: "I1"},
		events.SurveyInvited{Metadata: meta, SurveyInvitation: manual, ExpiresAt: at},
		events.SurveyInvited{Metadata: meta, SurveyInvitation: afterTicket, ExpiresAt: at},
		events.SurveyResponded{Metadata: meta, SurveyInvitation: manual, Answers: []events.SurveyAnswer{{Question: "nps", Score: 0}}, AnsweredAt: at},
		events.SurveyResponded{Metadata: meta, SurveyInvitation: afterTicket, Commented: true, AnsweredAt: at,
			Answers: []events.SurveyAnswer{{Question: "csat", Score: 5}, {Question: "ces", Score: 7}}},
		events.SurveyOptedOut{Metadata: meta, InvitationID: "I1", OptedOutAt: at},
		events.SurveyOptedOut{Metadata: meta, InvitationID: "I1", CustomerID: "C1", OptedOutAt: at},
	}
	for _, d := range details {
		env, err := events.Wrap(d)
		if err != nil {
			t.Fatalf("wrap %s: %v", d.DetailType(), err)
		}
		if env.ID != meta.EventID || env.Source != d.EventSource() || env.DetailType != d.DetailType() {
			t.Errorf("envelope %+v does not carry the detail's id, source and type", env)
		}
		if env.Time.Location() != time.UTC || !env.Time.Equal(at) {
			t.Errorf("envelope time %v, want %v in UTC", env.Time, at)
		}
		var v any
		if err := json.Unmarshal(env.Detail, &v); err != nil {
			t.Fatal(err)
		}
		if err := compileSchema(t, d.DetailType()).Validate(v); err != nil {
			t.Errorf("wrapped %s does not match its schema: %v\n%s", d.DetailType(), err, env.Detail)
		}
	}

	if _, err := events.Wrap(events.LeadCaptured{}); err == nil {
		t.Error("Wrap accepted a detail without an event id")
	}
}

// TestCatalogueIsComplete checks that the catalogue, the schemas, the
// samples and the detail types declared in the package name the same set.
func TestCatalogueIsComplete(t *testing.T) {
	var catalogue []string
	for _, d := range events.Catalogue() {
		if _, ok := events.Schema(d.DetailType()); !ok {
			t.Errorf("%s has no embedded schema", d.DetailType())
		}
		if d.EventSource() == "" || !strings.HasPrefix(d.EventSource(), "rapport.") {
			t.Errorf("%s has source %q, want rapport.<aggregate>", d.DetailType(), d.EventSource())
		}
		catalogue = append(catalogue, d.DetailType())
	}
	slices.Sort(catalogue)
	if len(slices.Compact(slices.Clone(catalogue))) != len(catalogue) {
		t.Errorf("catalogue lists a detail type twice: %v", catalogue)
	}

	for _, dir := range []string{"schemas", "testdata"} {
		if got := jsonFiles(t, dir); !slices.Equal(got, catalogue) {
			t.Errorf("%s/ holds %v, catalogue lists %v", dir, got, catalogue)
		}
	}

	// Every type in the package with a DetailType method must be listed.
	declared := detailTypesDeclared(t)
	listed := map[string]bool{}
	for _, d := range events.Catalogue() {
		listed[reflect.TypeOf(d).Name()] = true
	}
	for _, name := range declared {
		if !listed[name] {
			t.Errorf("%s implements DetailType but is not in Catalogue()", name)
		}
	}
	if len(declared) != len(listed) {
		t.Errorf("declared detail types %v, catalogue %v", declared, slices.Sorted(maps.Keys(listed)))
	}
}

// TestSchemasDescribeStructs compares each schema's properties and required
// list with the Go struct's JSON fields, so neither can drift from the
// other: every field is in the schema, and a field is required exactly when
// it is not omitempty.
func TestSchemasDescribeStructs(t *testing.T) {
	for _, d := range events.Catalogue() {
		t.Run(d.DetailType(), func(t *testing.T) {
			raw, _ := events.Schema(d.DetailType())
			var sch map[string]any
			if err := json.Unmarshal(raw, &sch); err != nil {
				t.Fatal(err)
			}
			compareStruct(t, d.DetailType(), reflect.TypeOf(d), sch)
		})
	}
}

func compareStruct(t *testing.T, path string, typ reflect.Type, sch map[string]any) {
	t.Helper()
	props, _ := sch["properties"].(map[string]any)
	var required []string
	for _, r := range asSlice(sch["required"]) {
		required = append(required, r.(string))
	}
	slices.Sort(required)

	fields := jsonFields(typ)
	var wantRequired []string
	for name, f := range fields {
		if !f.omitempty {
			wantRequired = append(wantRequired, name)
		}
		p, ok := props[name].(map[string]any)
		if !ok {
			t.Errorf("%s.%s is in the struct but not in the schema", path, name)
			continue
		}
		ft := f.typ
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}) {
			compareStruct(t, path+"."+name, ft, p)
		}
	}
	for name := range props {
		if _, ok := fields[name]; !ok {
			t.Errorf("%s.%s is in the schema but not in the struct", path, name)
		}
	}
	slices.Sort(wantRequired)
	if !slices.Equal(required, wantRequired) {
		t.Errorf("%s: schema requires %v, struct has non-omitempty fields %v", path, required, wantRequired)
	}
}

type jsonField struct {
	typ       reflect.Type
	omitempty bool
}

// jsonFields lists a struct's JSON fields as encoding/json sees them,
// flattening embedded structs without a tag.
func jsonFields(typ reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for f := range typ.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && tag == "" {
			maps.Copy(out, jsonFields(f.Type))
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out[name] = jsonField{typ: f.Type, omitempty: slices.Contains(strings.Split(opts, ","), "omitempty")}
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func compileSchema(t *testing.T, detailType string) *jsonschema.Schema {
	t.Helper()
	raw, ok := events.Schema(detailType)
	if !ok {
		t.Fatalf("no schema for %s", detailType)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse schema %s: %v", detailType, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // draft 2020-12 only annotates formats unless asked
	url := "https://schemas.rapport.invalid/events/" + detailType + ".json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("add schema %s: %v", detailType, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile schema %s: %v", detailType, err)
	}
	return sch
}

func readSample(t *testing.T, detailType string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", detailType+".json"))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	return b
}

// sampleDetail returns the sample's detail as the validator wants it.
func sampleDetail(t *testing.T, detailType string) map[string]any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(readSample(t, detailType)))
	if err != nil {
		t.Fatalf("parse sample: %v", err)
	}
	detail, ok := v.(map[string]any)["detail"].(map[string]any)
	if !ok {
		t.Fatalf("sample %s has no detail object", detailType)
	}
	return detail
}

// jsonFiles lists the detail types that dir holds a <detail-type>.json for.
func jsonFiles(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range matches {
		out = append(out, strings.TrimSuffix(filepath.Base(m), ".json"))
	}
	slices.Sort(out)
	return out
}

// detailTypesDeclared parses the package's source and returns the types
// that declare a DetailType method.
func detailTypesDeclared(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "DetailType" {
				continue
			}
			recv := fn.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if id, ok := recv.(*ast.Ident); ok {
				out = append(out, id.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// assertJSONEqual compares two JSON documents by value, as testify's JSONEq.
func assertJSONEqual(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got: %v", err)
	}
	if !reflect.DeepEqual(w, g) {
		t.Errorf("JSON differs\nwant: %s\ngot:  %s", compact(want), compact(got))
	}
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}
