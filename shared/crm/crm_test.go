package crm

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func TestCheckSubmissionNormalises(t *testing.T) {
	in, err := CheckSubmission(Submission{
		Name: "  Ada   <i>Lovelace</i> ", Email: " Ada@Example.COM ", Phone: "+44 (20) 7946-0958",
		Message: "Line one\r\n<script>x</script>Line  two", Referrer: "https://www.news.example/item?id=1",
		Consent: "yes", Custom: map[string]string{"plan": " pro "},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := in.Lead
	for got, want := range map[string]string{
		l.Name: "Ada Lovelace", l.Email: "ada@example.com", l.Phone: "+442079460958",
		l.Source: "news.example", l.Custom["plan"]: "pro", in.Entry.Message: "Line one\nx Line two",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if !l.Consent {
		t.Error("consent yes was not read as consent")
	}
}

func TestSourcePrefersTheFormThenTheCampaign(t *testing.T) {
	for _, c := range []struct {
		sub  Submission
		want string
	}{
		{Submission{Email: "a@b.co", Source: "Trade-Show", UTMSource: "google"}, "trade-show"},
		{Submission{Email: "a@b.co", UTMSource: "Google", Referrer: "https://bing.com/"}, "google"},
		{Submission{Email: "a@b.co", Referrer: "https://www.bing.com/search"}, "bing.com"},
		{Submission{Email: "a@b.co"}, "website"},
	} {
		in, err := CheckSubmission(c.sub)
		if err != nil || in.Lead.Source != c.want {
			t.Errorf("%+v: source %q (%v), want %q", c.sub, in.Lead.Source, err, c.want)
		}
	}
}

func TestCheckSubmissionNamesEveryBadField(t *testing.T) {
	_, err := CheckSubmission(Submission{
		Email: "ada@", Phone: "12", PageURL: "ftp://x", Company: strings.Repeat("c", 201),
		Message: strings.Repeat("m", 5001), Custom: map[string]string{"OK?": "v"},
	})
	e, ok := err.(*Error)
	if !ok || e.Code != EINVALID {
		t.Fatalf("err = %v", err)
	}
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	sort.Strings(fields)
	want := "company custom.OK? email message page_url phone"
	if strings.Join(fields, " ") != want {
		t.Fatalf("fields %v, want %s", fields, want)
	}
}

func TestTransitions(t *testing.T) {
	for _, c := range []struct {
		from, to LeadStatus
		ok       bool
	}{
		{StatusNew, StatusContacted, true},
		{StatusNew, StatusQualified, true},
		{StatusContacted, StatusNew, false},
		{StatusQualified, StatusLost, true},
		{StatusLost, StatusContacted, true},
		{StatusNew, StatusConverted, false},
		{StatusConverted, StatusLost, false},
		{StatusQualified, StatusQualified, true},
	} {
		if err := CheckTransition(c.from, c.to); (err == nil) != c.ok {
			t.Errorf("%s → %s: %v", c.from, c.to, err)
		}
	}
}

func TestParseMoney(t *testing.T) {
	for _, c := range []struct {
		amount, currency string
		minor            int64
		ok               bool
	}{
		{"1250.50", "eur", 125050, true},
		{"1250.5", "EUR", 125050, true},
		{"0", "USD", 0, true},
		{"1000", "JPY", 1000, true},
		{"1.5", "JPY", 0, false},
		{"1.234", "KWD", 1234, true},
		{"12.345", "EUR", 0, false},
		{"-1", "EUR", 0, false},
		{"1e3", "EUR", 0, false},
		{"1/3", "EUR", 0, false},
		{"10", "EURO", 0, false},
		{"99999999999999999", "EUR", 0, false},
	} {
		m, err := ParseMoney(c.amount, c.currency)
		if (err == nil) != c.ok || (c.ok && m.Minor != c.minor) {
			t.Errorf("ParseMoney(%q, %q) = %+v, %v", c.amount, c.currency, m, err)
		}
	}
	if s := (Money{Minor: 125050, Currency: "EUR"}).String(); s != "1250.50" {
		t.Errorf("String = %s", s)
	}
	if s := (Money{Minor: 1234, Currency: "KWD"}).String(); s != "1.234" {
		t.Errorf("String = %s", s)
	}
}

func TestIDsSortByTimeAndValidate(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	a, b := NewID(t0), NewID(t0.Add(time.Millisecond))
	if !(a < b) || !ValidID(a) || !ValidID(b) || len(a) != 26 {
		t.Fatalf("ids %s %s", a, b)
	}
	for _, bad := range []string{"", "01ARZ3NDEKTSV4RRFFQ69G5FAVX", "01arz3ndektsv4rrffq69g5fav", "01ARZ3NDEKTSV4RRFFQ69G5FAI", "../../../../etc/passwd/xxxx"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q)", bad)
		}
	}
}

func TestCustomerAddsDealsPerCurrency(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	c := Customer{}.AddDeal(Money{100, "EUR"}, at).AddDeal(Money{50, "USD"}, at).AddDeal(Money{25, "EUR"}, at)
	if c.Deals != 3 || len(c.Value) != 2 || c.Value[0] != (Money{125, "EUR"}) || c.Value[1] != (Money{50, "USD"}) {
		t.Fatalf("%+v", c)
	}
}
