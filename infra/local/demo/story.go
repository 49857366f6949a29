package demo

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rapportcrm/rapport/infra/local/auth"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// person is a member of staff: a token's subject and role, and the
// profile they keep.
type person struct {
	Sub, Name, Team, Zone string
	Role                  manifest.Role
}

// Staff is the demo company: three teams, people in Berlin and New York.
var Staff = []person{
	{"ana", "Ana Ortiz", "sales", "Europe/Berlin", manifest.Agent},
	{"ben", "Ben Carter", "sales", "America/New_York", manifest.Agent},
	{"carla", "Carla Rossi", "sales", "Europe/Berlin", manifest.Agent},
	{"dev", "Dev Patel", "support", "Europe/Berlin", manifest.Agent},
	{"eli", "Eli Brooks", "support", "America/New_York", manifest.Agent},
	{"fay", "Fay Wong", "support", "Europe/Berlin", manifest.Agent},
	{"hana", "Hana Sato", "success", "America/New_York", manifest.Agent},
	{"ivo", "Ivo Novak", "success", "Europe/Berlin", manifest.Agent},
	{"mia", "Mia Schulz", "sales", "Europe/Berlin", manifest.Manager},
}

func team(name string) []person {
	var out []person
	for _, p := range Staff {
		if p.Team == name && p.Role == manifest.Agent {
			out = append(out, p)
		}
	}
	return out
}

// staff writes each person's profile (PUT /me), so reminders and digests
// go to them in their own time zone.
func (s *script) staff(ctx context.Context) error {
	for _, p := range Staff {
		body := map[string]any{
			"name": p.Name, "email": p.Sub + "@" + auth.EmailDomain, "time_zone": p.Zone, "team": p.Team,
			"digest": map[string]any{"enabled": true, "hour": 8},
		}
		if _, err := s.c.want(ctx, &p, http.MethodPut, "/me", body, nil, http.StatusOK, http.StatusCreated); err != nil {
			return err
		}
		s.n.Staff++
	}
	return nil
}

// customer is someone who wrote in.
type customer struct {
	Name, Email, Company string
}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken",
		"Radia", "Dennis", "Hedy", "Tim", "Katherine", "Linus", "Sophie", "Niklaus", "Joan", "Bjarne", "Lena", "Omar", "Priya", "Yuki"}
	lastNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton",
		"Thompson", "Perlman", "Ritchie", "Lamarr", "Berners", "Johnson", "Torvalds", "Wilson", "Wirth", "Clarke", "Stroustrup"}
	companies = []string{"Northwind", "Contoso", "Initech", "Globex", "Umbrella Foods", "Stark Tools", "Wayne Logistics",
		"Acme Garden", "Hooli", "Vandelay Imports", "Soylent Bakery", "Tyrell Print", ""}
	sources   = []string{"website", "google-ads", "newsletter", "linkedin", "referral", "trade-show"}
	campaigns = map[string][]string{
		"google-ads": {"spring-sale", "brand", "retargeting"},
		"newsletter": {"monthly-digest", "webinar-invite"},
		"linkedin":   {"webinar-invite", "case-study"},
	}
	ticketKinds = []string{"request", "question", "complaint", "incident"}
	priorities  = []string{"low", "normal", "high", "urgent"}
	subjects    = map[string][]string{
		"request":   {"Change of delivery address", "Extra seats for our team", "Copy of last invoice"},
		"question":  {"How do I export my data?", "Do you ship to Norway?", "Which plan fits us?"},
		"complaint": {"Charged twice", "Order arrived damaged", "Nobody called back"},
		"incident":  {"Login page down", "Sync stopped this morning", "Reports show no data"},
	}
)

// planLead plans one arrival in slot i: a new lead, a duplicate or spam,
// and what sales then does with it.
func (s *script) planLead(i int) {
	r := s.rng
	switch x := r.Float64(); {
	case x < 0.03: // a bot fills the honeypot
		form := url.Values{"name": {"Cheap pills"}, "email": {fmt.Sprintf("bot%d@spam.example", r.IntN(1e6))},
			"message": {"Buy now http://spam.example"}, "website": {"http://spam.example"}}
		s.later(i, func(ctx context.Context, s *script, _ int) error {
			if _, err := s.c.want(ctx, nil, http.MethodPost, "/leads", form, nil, http.StatusOK, http.StatusCreated, http.StatusAccepted); err != nil {
				return err
			}
			atomic.AddInt64(&s.n.Spam, 1)
			return nil
		})
		return
	case x < 0.11 && len(s.people) > 0: // someone sends the form again
		p := s.people[r.IntN(len(s.people))]
		body := map[string]any{"name": p.Name, "email": p.Email, "message": "Sending this again — did you get my first message?", "source": "website"}
		s.later(i, func(ctx context.Context, s *script, _ int) error {
			a, err := s.c.want(ctx, nil, http.MethodPost, "/leads", body, nil, http.StatusOK, http.StatusCreated)
			if err != nil {
				return err
			}
			if a.Body["duplicate"] == true {
				atomic.AddInt64(&s.n.Duplicates, 1)
			} else {
				atomic.AddInt64(&s.n.Leads, 1)
			}
			return nil
		})
		return
	}
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	p := customer{Name: first + " " + last, Email: fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), r.IntN(1000)),
		Company: companies[r.IntN(len(companies))]}
	s.people = append(s.people, p)
	src := pick(r, sources, 30, 25, 15, 12, 10, 8)
	body := map[string]any{"name": p.Name, "email": p.Email, "company": p.Company, "source": src, "consent": true,
		"message": "We would like a quote for " + strconv.Itoa(5+r.IntN(50)) + " seats."}
	if cs := campaigns[src]; cs != nil {
		body["utm_source"], body["utm_campaign"] = src, cs[r.IntN(len(cs))]
	}
	// What sales does with it, decided now.
	rep := pick(r, team("sales"), 40, 35, 25)
	contact := -1
	if r.Float64() < 0.85 {
		contact = i + pick(r, []int{1, 1, 2, 3, 4, 8}, 35, 25, 15, 10, 10, 5)
	}
	followup, done, late := false, 0, false
	if contact >= 0 && r.Float64() < 0.35 {
		followup = true
		switch x := r.Float64(); {
		case x < 0.65:
			done = contact + 1 + r.IntN(7) // within the 2 days it is due in
		case x < 0.9:
			done, late = contact+9+r.IntN(8), true
		default:
			done = -1 // never done
		}
	}
	outcome, at := "", 0
	var deal float64
	var buys []buy
	if contact >= 0 {
		switch x := r.Float64(); {
		case x < 0.2:
			outcome, at = "converted", contact+2+r.IntN(40)
			deal = math.Round(min(pareto(r, 400, 1.16), 60000))
			for range min(int(pareto(r, 1, 1.3))-1, 15) {
				buys = append(buys, buy{slot: at + 1 + r.IntN(120), amount: math.Round(min(pareto(r, 80, 1.16), 20000)*100) / 100})
			}
		case x < 0.45:
			outcome, at = "lost", contact+2+r.IntN(30)
		}
	}
	s.later(i, func(ctx context.Context, s *script, _ int) error {
		a, err := s.c.want(ctx, nil, http.MethodPost, "/leads", body, nil, http.StatusCreated, http.StatusOK)
		if err != nil {
			return err
		}
		id := a.str("id")
		if a.Body["duplicate"] == true {
			atomic.AddInt64(&s.n.Duplicates, 1)
			return nil
		}
		atomic.AddInt64(&s.n.Leads, 1)
		if contact < 0 {
			return nil
		}
		s.later(contact, func(ctx context.Context, s *script, slot int) error {
			// The rep takes the lead and calls: a logged call is the
			// first contact the lead response time measures, and moves
			// the lead to contacted.
			if err := s.c.patch(ctx, rep, "/leads/"+id, "", map[string]any{"owner": rep.Sub}); err != nil {
				return err
			}
			if _, err := s.c.want(ctx, &rep, http.MethodPost, "/leads/"+id+"/activities",
				map[string]any{"type": "call", "note": "Called back about the enquiry."}, nil, http.StatusCreated); err != nil {
				return err
			}
			atomic.AddInt64(&s.n.Contacted, 1)
			if followup {
				if err := s.planFollowup(ctx, rep, id, slot, done, late); err != nil {
					return err
				}
			}
			switch outcome {
			case "converted":
				s.later(at, func(ctx context.Context, s *script, _ int) error { return s.convert(ctx, rep, id, deal, buys) })
			case "lost":
				s.later(at, func(ctx context.Context, s *script, _ int) error {
					if err := s.c.patch(ctx, rep, "/leads/"+id, "", map[string]any{"status": "lost", "lost_reason": "chose another supplier"}); err != nil {
						return err
					}
					atomic.AddInt64(&s.n.Lost, 1)
					return nil
				})
			}
			return nil
		})
		return nil
	})
}

type buy struct {
	slot   int
	amount float64
}

// planFollowup makes a follow-up due two days after slot and closes it in
// slot done (never when done < 0).
func (s *script) planFollowup(ctx context.Context, rep person, lead string, slot, done int, late bool) error {
	due := s.slots[slot].Add(48 * time.Hour)
	a, err := s.c.want(ctx, &rep, http.MethodPost, "/followups",
		map[string]any{"subject": "lead:" + lead, "note": "Call back about the quote", "due_at": due.Format(time.RFC3339)}, nil, http.StatusCreated)
	if err != nil {
		return err
	}
	atomic.AddInt64(&s.n.Followups, 1)
	id, etag := a.str("id"), a.ETag
	if done < 0 || done >= len(s.slots) {
		atomic.AddInt64(&s.n.Unopened, 1)
		return nil
	}
	s.later(done, func(ctx context.Context, s *script, _ int) error {
		if err := s.c.patch(ctx, rep, "/followups/"+id, etag, map[string]any{"status": "done"}); err != nil {
			return err
		}
		if late {
			atomic.AddInt64(&s.n.FollowupsLate, 1)
		}
		return nil
	})
	return nil
}

// convert wins the deal and plans the customer's purchases.
func (s *script) convert(ctx context.Context, rep person, lead string, deal float64, buys []buy) error {
	a, err := s.c.want(ctx, &rep, http.MethodPost, "/leads/"+lead+"/convert",
		map[string]any{"deal_value": fmt.Sprintf("%.2f", deal), "currency": "EUR"}, nil, http.StatusOK)
	if err != nil {
		return err
	}
	atomic.AddInt64(&s.n.Converted, 1)
	cust, _ := a.Body["customer"].(map[string]any)
	id, _ := cust["id"].(string)
	for _, b := range buys {
		s.later(b.slot, func(ctx context.Context, s *script, _ int) error {
			if _, err := s.c.want(ctx, &rep, http.MethodPost, "/customers/"+id+"/purchases",
				map[string]any{"amount": fmt.Sprintf("%.2f", b.amount), "currency": "EUR", "description": "Seats"}, nil, http.StatusCreated); err != nil {
				return err
			}
			atomic.AddInt64(&s.n.Purchases, 1)
			return nil
		})
	}
	return nil
}

// planTicket plans one ticket in slot i and how support handles it: a
// quick answer mostly, a late one sometimes (an SLA breach).
func (s *script) planTicket(i int) {
	r := s.rng
	var who customer
	if len(s.people) > 0 && r.Float64() < 0.8 {
		who = s.people[r.IntN(len(s.people))]
	} else {
		who = customer{Name: "Pat Doe", Email: fmt.Sprintf("pat%d@example.org", r.IntN(1e5))}
	}
	kind := pick(r, ticketKinds, 35, 30, 20, 15)
	subj := subjects[kind][r.IntN(len(subjects[kind]))]
	agent := pick(r, team("support"), 40, 35, 25)
	body := map[string]any{"name": who.Name, "email": who.Email, "kind": kind, "subject": subj,
		"message": subj + ". Please help.", "reference": fmt.Sprintf("ORD-%05d", r.IntN(1e5))}
	path, who2 := "/tickets", (*person)(nil)
	if r.Float64() < 0.4 { // taken on the phone, with a priority
		path, who2 = "/tickets/on-behalf", &agent
		body["channel"] = pick(r, []string{"phone", "email", "chat"}, 50, 35, 15)
		body["priority"] = pick(r, priorities, 20, 45, 25, 10)
		body["owner"] = "me"
	}
	reply := i + pick(r, []int{1, 1, 2, 4, 8, 12}, 35, 25, 15, 10, 10, 5)
	solve := reply + pick(r, []int{0, 0, 1, 3, 6, 1000}, 35, 15, 20, 15, 8, 7)
	s.later(i, func(ctx context.Context, s *script, _ int) error {
		a, err := s.c.want(ctx, who2, http.MethodPost, path, body, nil, http.StatusCreated, http.StatusOK)
		if err != nil {
			return err
		}
		atomic.AddInt64(&s.n.Tickets, 1)
		id := a.str("id")
		s.later(reply, func(ctx context.Context, s *script, _ int) error {
			msg := map[string]any{"body": "Thanks for writing — we are on it.", "public": true}
			if solve == reply {
				msg["body"], msg["status"] = "Done: this is sorted now. Thank you for your patience.", "solved"
			}
			if _, err := s.c.want(ctx, &agent, http.MethodPost, "/tickets/"+id+"/replies", msg, nil, http.StatusCreated); err != nil {
				return err
			}
			atomic.AddInt64(&s.n.Replies, 1)
			if solve == reply {
				atomic.AddInt64(&s.n.Solved, 1)
				return nil
			}
			s.later(solve, func(ctx context.Context, s *script, _ int) error {
				msg := map[string]any{"body": "Done: this is sorted now.", "public": true, "status": "solved"}
				if _, err := s.c.want(ctx, &agent, http.MethodPost, "/tickets/"+id+"/replies", msg, nil, http.StatusCreated); err != nil {
					return err
				}
				atomic.AddInt64(&s.n.Replies, 1)
				atomic.AddInt64(&s.n.Solved, 1)
				return nil
			})
			return nil
		})
		return nil
	})
}

var (
	softBreak  = regexp.MustCompile(`=\r?\n`)
	qpEscape   = regexp.MustCompile(`=([0-9A-F]{2})`)
	surveyLink = regexp.MustCompile(`/s/([\w-]+)\?score=(\d+)`)
)

// answerSurveys reads the invitations mailed since the last look and plans
// answers to about half of them, mostly happy, in slot i.
func (s *script) answerSurveys(i int) error {
	files, err := os.ReadDir(s.st.Outbox)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".eml") && !s.seen[f.Name()] {
			names = append(names, f.Name())
		}
	}
	slices.Sort(names)
	for _, name := range names {
		s.seen[name] = true
		raw, err := os.ReadFile(s.st.Outbox + "/" + name)
		if err != nil {
			return err
		}
		text := qpEscape.ReplaceAllStringFunc(softBreak.ReplaceAllString(string(raw), ""), func(m string) string {
			b, _ := strconv.ParseUint(m[1:], 16, 8)
			return string(rune(b))
		})
		links := surveyLink.FindAllStringSubmatch(text, -1)
		if len(links) == 0 {
			continue
		}
		s.n.Invitations++
		token, top := links[0][1], 0
		for _, l := range links {
			n, _ := strconv.Atoi(l[2])
			top = max(top, n)
		}
		if s.rng.Float64() >= 0.5 {
			continue
		}
		var answer map[string]any
		switch top {
		case 5:
			answer = map[string]any{"csat": pick(s.rng, []int{1, 2, 3, 4, 5}, 4, 5, 10, 35, 46)}
			if s.rng.Float64() < 0.6 { // the optional effort question on the same page
				answer["ces"] = pick(s.rng, []int{2, 3, 4, 5, 6, 7}, 4, 6, 15, 30, 30, 15)
			}
		case 7:
			answer = map[string]any{"ces": pick(s.rng, []int{2, 3, 4, 5, 6, 7}, 4, 6, 15, 30, 30, 15)}
		default:
			answer = map[string]any{"nps": pick(s.rng, []int{3, 5, 6, 7, 8, 9, 10}, 4, 5, 6, 10, 15, 30, 30)}
		}
		if s.rng.Float64() < 0.3 {
			answer["comment"] = pick(s.rng, []string{"Quick and kind.", "Took a while, but sorted.", "Great service!", "Please call back sooner."}, 3, 2, 3, 2)
		}
		s.later(i, func(ctx context.Context, s *script, _ int) error {
			a, err := s.c.do(ctx, nil, http.MethodPost, "/s/"+token, answer, nil)
			if err != nil {
				return err
			}
			if a.Status < 300 {
				atomic.AddInt64(&s.n.Answers, 1)
			}
			return nil // an expired or superseded link answers 4xx, as for a real customer
		})
	}
	return nil
}
