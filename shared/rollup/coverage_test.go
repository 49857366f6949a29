package rollup_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// notFedYet lists the names in shared/scorecard/names.go that no event
// feeds yet, because the event does not exist. Wiring one removes it from
// here; every name is fed now.
var notFedYet = []string{}

// TestEveryNameIsFed reads every counter, sum, timing and breakdown that
// shared/scorecard/names.go declares and checks that some case above adds
// to it, except those listed in notFedYet — and that those are not fed,
// so the list stays true. A name added to the engine without an event
// feeding it fails here.
func TestEveryNameIsFed(t *testing.T) {
	declared := declaredNames(t)
	fed := map[string]bool{}
	for _, tt := range cases {
		cs, err := rollup.Contributions(tt.env(t), berlin)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			for k := range c.Adds.Counters {
				fed[string(k)] = true
			}
			for k := range c.Adds.Sums {
				fed[string(k)] = true
			}
			for k := range c.Adds.Timings {
				fed[string(k)] = true
			}
			for k := range c.Adds.Breakdowns {
				fed[string(k)] = true
			}
		}
	}
	for _, name := range declared {
		switch {
		case slices.Contains(notFedYet, name) && fed[name]:
			t.Errorf("%s is fed now: take it off notFedYet", name)
		case !slices.Contains(notFedYet, name) && !fed[name]:
			t.Errorf("no event feeds %s", name)
		}
	}
	for _, name := range notFedYet {
		if !slices.Contains(declared, name) {
			t.Errorf("notFedYet names %s, which names.go does not declare", name)
		}
	}
	// The answer counters are made by AnswerCounter, not declared one by
	// one: a response feeds the counter of each question it answers.
	for _, q := range []scorecard.SurveyQuestion{scorecard.NPS, scorecard.CSAT, scorecard.CES} {
		if !fed[answerPrefixOf(fed, q)] {
			t.Errorf("no case feeds an answer to %s", q)
		}
	}
	t.Logf("fed: %d names declared in names.go and answers to 3 questions; not fed yet: %v", len(declared)-len(notFedYet), notFedYet)
}

// answerPrefixOf returns a fed counter that answers q, or "".
func answerPrefixOf(fed map[string]bool, q scorecard.SurveyQuestion) string {
	lo, hi, _ := q.Scale()
	for s := lo; s <= hi; s++ {
		if c, _ := scorecard.AnswerCounter(q, s); fed[string(c)] {
			return string(c)
		}
	}
	return ""
}

// declaredNames returns the value of every constant of type Counter, Sum,
// Timing or Breakdown in shared/scorecard/names.go.
func declaredNames(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../scorecard/names.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{"Counter": true, "Sum": true, "Timing": true, "Breakdown": true}
	var out []string
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			v := spec.(*ast.ValueSpec)
			typ, ok := v.Type.(*ast.Ident)
			if !ok || !kinds[typ.Name] {
				continue
			}
			for _, val := range v.Values {
				lit, ok := val.(*ast.BasicLit)
				if !ok {
					continue
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, s)
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("found only %d names in names.go: %v", len(out), out)
	}
	return out
}
