package httpapi

import (
	"bytes"
	"mime/multipart"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/shared/crm"
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
