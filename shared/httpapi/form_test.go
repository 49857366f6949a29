package httpapi

import (
	"bytes"
	"context"
	"mime/multipart"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/sla"
	"github.com/rapportcrm/rapport/shared/ticket"
)

func TestParseFormReadsEveryEncoding(t *testing.T) {
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	_ = w.WriteField("email", "ada@example.com")
	_ = w.WriteField("custom[plan]", "pro")
	fw, _ := w.CreateFormFile("attachment", "cv.pdf")
	_, _ = fw.Write([]byte("%PDF"))
	_ = w.Close()

	cases := []struct {
		name, mediaType string
		params          map[string]string
		body            string
	}{
		{"urlencoded", "application/x-www-form-urlencoded", nil, "email=ada%40example.com&custom%5Bplan%5D=pro&submit=Send"},
		{"multipart", "multipart/form-data", map[string]string{"boundary": w.Boundary()}, mp.String()},
		{"json", "application/json", nil, `{"email":"ada@example.com","custom":{"plan":"pro"},"unknown":1}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := ParseForm(c.mediaType, c.params, []byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if in.Submission.Email != "ada@example.com" || in.Submission.Custom["plan"] != "pro" {
				t.Fatalf("parsed %+v", in.Submission)
			}
		})
	}
}

func TestParseFormTakesTheFirstOfRepeatedFields(t *testing.T) {
	in, err := ParseForm("application/x-www-form-urlencoded", nil, []byte("email=a%40example.com&email=b%40example.com"))
	if err != nil || in.Submission.Email != "a@example.com" {
		t.Fatalf("%+v %v", in.Submission, err)
	}
}

func TestParseFormLimits(t *testing.T) {
	big := "email=a%40example.com&message=" + strings.Repeat("x", MaxFormBody)
	if _, err := ParseForm("application/x-www-form-urlencoded", nil, []byte(big)); crm.ErrorCode(err) != crm.ETOOLARGE {
		t.Errorf("oversized body: %v", err)
	}
	var many strings.Builder
	for i := range crm.MaxCustomFields + 1 {
		many.WriteString("custom%5Bf" + strings.Repeat("x", i) + "%5D=v&")
	}
	if _, err := ParseForm("application/x-www-form-urlencoded", nil, []byte(many.String())); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("21 custom fields: %v", err)
	}
	if _, err := ParseForm("text/plain", nil, []byte("x")); crm.ErrorCode(err) != crm.EUNSUPPORTED {
		t.Errorf("text/plain: %v", err)
	}
	if _, err := ParseForm("multipart/form-data", nil, []byte("x")); crm.ErrorCode(err) != crm.EMALFORMED {
		t.Errorf("multipart without boundary: %v", err)
	}
}

// FuzzParseForm feeds the public form parser and the submission checks
// arbitrary bodies. The seeds run in every `go test`; `go test -fuzz
// FuzzParseForm ./shared/httpapi` explores further. Whatever comes in, the
// parser answers a value or a domain error, and an accepted lead holds no
// markup and keeps every limit.
func FuzzParseForm(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "name=Ada&email=ada%40example.com&message=Hello")
	f.Add("application/x-www-form-urlencoded", "email=%ZZ&&=&website=x")
	f.Add("application/x-www-form-urlencoded", "phone=%2B49+30+1234567&custom%5Bplan%5D=pro&consent=on")
	f.Add("application/json", `{"email":"a@b.co","custom":{"k":"v"},"consent":true}`)
	f.Add("application/json", `{"email":["x"],"custom":[1]}`)
	f.Add("application/json", `{"name":"<script>alert(1)</script>","email":"x@y.z"}`)
	f.Add("multipart/form-data", "--B\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.co\r\n--B--\r\n")
	f.Add("application/x-www-form-urlencoded", "referrer=http%3A%2F%2F%5B%3A%3A1%5D%3A80%2F&page_url=https%3A%2F%2Fx")
	f.Fuzz(func(t *testing.T, mediaType, body string) {
		in, err := ParseForm(mediaType, map[string]string{"boundary": "B"}, []byte(body))
		if err != nil {
			if crm.ErrorCode(err) == crm.EINTERNAL {
				t.Fatalf("parser failed internally: %v", err)
			}
			return
		}
		intake, err := crm.CheckSubmission(in.Submission)
		if err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("check failed with %v", err)
			}
			return
		}
		l := intake.Lead
		if l.Email == "" && l.Phone == "" {
			t.Fatal("accepted a lead with no way to contact")
		}
		for _, s := range []string{l.Name, l.Company, l.Email, l.Source, intake.Entry.Message} {
			if strings.ContainsAny(s, "<>") || !utf8.ValidString(s) {
				t.Fatalf("accepted unsafe text %q", s)
			}
		}
		if l.Email != strings.ToLower(l.Email) || len(l.Email) > 254 || utf8.RuneCountInString(l.Name) > 200 {
			t.Fatalf("limits broken: %+v", l)
		}
	})
}

func TestParseTicketFormReadsEveryEncoding(t *testing.T) {
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	_ = w.WriteField("email", "ada@example.com")
	_ = w.WriteField("kind", "complaint")
	_ = w.WriteField("custom[order]", "77")
	_ = w.Close()
	cases := []struct {
		name, mediaType string
		params          map[string]string
		body            string
	}{
		{"urlencoded", "application/x-www-form-urlencoded", nil, "email=ada%40example.com&kind=complaint&custom%5Border%5D=77&submit=Send"},
		{"multipart", "multipart/form-data", map[string]string{"boundary": w.Boundary()}, mp.String()},
		{"json", "application/json", nil, `{"email":"ada@example.com","kind":"complaint","custom":{"order":"77"},"company":"ignored"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := ParseTicketForm(c.mediaType, c.params, []byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if in.Submission.Email != "ada@example.com" || in.Submission.Kind != "complaint" || in.Submission.Custom["order"] != "77" {
				t.Fatalf("parsed %+v", in.Submission)
			}
		})
	}
	// A lead form's fields are not a ticket's, and the reverse.
	in, err := ParseTicketForm("application/x-www-form-urlencoded", nil, []byte("company=Acme&utm_source=x&subject=Hi"))
	if err != nil || in.Submission.Subject != "Hi" {
		t.Fatalf("%+v %v", in, err)
	}
	lead, err := ParseForm("application/x-www-form-urlencoded", nil, []byte("subject=Hi&company=Acme"))
	if err != nil || lead.Submission.Company != "Acme" {
		t.Fatalf("%+v %v", lead, err)
	}
}

func TestParseAnswerTakesOnlyTheMessage(t *testing.T) {
	in, err := answerForm.parse("application/x-www-form-urlencoded", nil, []byte("message=Hi+there&message=again&custom%5Bx%5D=y&website=z"))
	if err != nil || in.Message != "Hi there" {
		t.Fatalf("%+v %v", in, err)
	}
	if _, err := answerForm.parse("application/x-www-form-urlencoded", nil, []byte("message="+strings.Repeat("x", MaxAnswerBody))); crm.ErrorCode(err) != crm.ETOOLARGE {
		t.Fatalf("an oversized answer: %v", err)
	}
}

// openings is a ticket store that only records what would be opened: the
// fuzz target checks what the form and the service let through, not the
// store.
type openings struct {
	ticket.Store
	got []ticket.Opening
}

var _ ticket.Store = (*openings)(nil)

func (o *openings) Open(_ context.Context, op ticket.Opening) (ticket.OpenResult, error) {
	o.got = append(o.got, op)
	return ticket.OpenResult{TicketID: op.Ticket.ID}, nil
}

func (o *openings) CustomerByEmail(context.Context, string) (string, error) { return "", nil }

// FuzzParseTicketForm feeds the support form's parser and the service's
// intake arbitrary bodies. The seeds run in every `go test`; `go test
// -fuzz FuzzParseTicketForm ./shared/httpapi` explores further. Whatever
// comes in, the parser answers a value or a domain error, and a ticket
// that is opened holds no markup, keeps every limit and can be answered.
func FuzzParseTicketForm(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "name=Ada&email=ada%40example.com&subject=Hi&message=Hello&kind=complaint")
	f.Add("application/x-www-form-urlencoded", "email=%ZZ&&=&website=x")
	f.Add("application/x-www-form-urlencoded", "email=a%40b.co&message=%3Cscript%3Ealert(1)%3C%2Fscript%3Ehi&custom%5Border%5D=7")
	f.Add("application/x-www-form-urlencoded", "email=a%40b.co&message=x&page_url=javascript%3Aalert(1)&reference=%00")
	f.Add("application/json", `{"email":"a@b.co","message":"m","custom":{"k":"v"},"kind":"INCIDENT"}`)
	f.Add("application/json", `{"email":["x"],"custom":[1],"message":{}}`)
	f.Add("application/json", `{"subject":"<b>Broken</b>\n\nsecond line","email":"X@Y.Z","message":"`+strings.Repeat("é", 300)+`"}`)
	f.Add("multipart/form-data", "--B\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.co\r\n--B\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhi\r\n--B--\r\n")
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	cal := calendar.Default(time.UTC)
	f.Fuzz(func(t *testing.T, mediaType, body string) {
		in, err := ParseTicketForm(mediaType, map[string]string{"boundary": "B"}, []byte(body))
		if err != nil {
			if crm.ErrorCode(err) == crm.EINTERNAL {
				t.Fatalf("parser failed internally: %v", err)
			}
			return
		}
		store := &openings{}
		s := &ticket.Service{Store: store, Rules: ticket.Rules{Policies: sla.DefaultPolicies(cal), Calendar: cal},
			Now: func() time.Time { return now }}
		if _, err := s.Submit(context.Background(), in.Submission, ""); err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("intake failed with %v", err)
			}
			return
		}
		if len(store.got) == 0 {
			return // the honeypot
		}
		tk, entry := store.got[0].Ticket, store.got[0].Entry
		if tk.Requester.Email == "" || tk.Requester.Email != strings.ToLower(tk.Requester.Email) {
			t.Fatalf("opened a ticket that cannot be answered: %q", tk.Requester.Email)
		}
		for _, s := range []string{tk.Subject, tk.Requester.Name, tk.Category, tk.Reference, entry.Body} {
			if strings.ContainsAny(s, "<>") || !utf8.ValidString(s) {
				t.Fatalf("accepted unsafe text %q", s)
			}
		}
		if utf8.RuneCountInString(tk.Subject) > ticket.MaxSubject || utf8.RuneCountInString(entry.Body) > ticket.MaxMessage ||
			len(tk.Custom) > crm.MaxCustomFields+1 || !slices.Contains(ticket.Kinds, tk.Kind) {
			t.Fatalf("limits broken: %+v", tk)
		}
	})
}

// FuzzParseAnswerForm feeds the customer page's answer parser arbitrary
// bodies: it answers a message within the body's limit or a domain error.
func FuzzParseAnswerForm(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "message=Thanks%2C+it+works")
	f.Add("application/x-www-form-urlencoded", "message=%E2%82&message=%zz")
	f.Add("multipart/form-data", "--B\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhi\r\n--B--\r\n")
	f.Add("multipart/form-data", "--B\r\nContent-Disposition: form-data; name=\"message\"; filename=\"x\"\r\n\r\nhi\r\n--B--")
	f.Fuzz(func(t *testing.T, mediaType, body string) {
		in, err := answerForm.parse(mediaType, map[string]string{"boundary": "B"}, []byte(body))
		if err != nil {
			if code := crm.ErrorCode(err); code == crm.EINTERNAL {
				t.Fatalf("parser failed internally: %v", err)
			}
			return
		}
		if len(in.Message) > MaxAnswerBody {
			t.Fatalf("a message of %d bytes from a body of %d", len(in.Message), len(body))
		}
	})
}
