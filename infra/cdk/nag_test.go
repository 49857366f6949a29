package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// nagFinding is one line of cdk-nag's compliance report.
type nagFinding struct {
	Rule, Resource, Compliance, Reason, Level string
}

// nagReport is what the AwsSolutions pack found in one synthesized stack.
type nagReport struct {
	findings []nagFinding
	// synthErr is why synthesis failed, if it did.
	synthErr string
}

// nagged synthesizes the stack for m (nil: the real manifest) under the
// AwsSolutions pack, as a reviewer would run it, and returns the pack's
// report. cdk-nag is an aspect: it must be on the app before synthesis.
func nagged(m *Manifest) nagReport {
	man := DefaultManifest()
	if m != nil {
		man = *m
	}
	assets := dummyAssets(man)
	out := mkdirTemp("rapport-cdk-nag-")
	ctx, err := rootContext()
	if err != nil {
		panic(err)
	}
	for k, v := range testContext {
		ctx[k] = v
	}
	ctx[CtxAlarmEmail] = "ops@example.com"
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out), Context: &ctx})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Reports: jsii.Bool(true)}), nil)
	NewRapportStack(app, "Nag", &RapportStackProps{Manifest: m, AssetDir: assets, Stage: StageProd})
	// Since the pinned flag @aws-cdk/core:validateAgainstDefaultRules, an
	// unsuppressed finding also stops synthesis; the report is written first.
	synthErr := func() (msg string) {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint(r)
			}
		}()
		app.Synth(nil)
		return ""
	}()
	// The report is named AwsSolutions-<stage>-<stack>-NagReport.csv; the
	// app has no stage.
	reports, _ := filepath.Glob(filepath.Join(out, "AwsSolutions-*Nag-NagReport.csv"))
	if len(reports) != 1 {
		panic(fmt.Sprintf("cdk-nag wrote no report into %s", out))
	}
	f, err := os.Open(reports[0])
	if err != nil {
		panic(err)
	}
	defer f.Close()
	r := nagReport{synthErr: synthErr}
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		panic(err)
	}
	for _, row := range rows[1:] { // Rule ID, Resource ID, Compliance, Exception Reason, Rule Level, Rule Info
		r.findings = append(r.findings, nagFinding{Rule: row[0], Resource: row[1], Compliance: row[2], Reason: row[3], Level: row[4]})
	}
	return r
}

var (
	realNag   = sync.OnceValue(func() nagReport { return nagged(nil) })
	sampleNag = sync.OnceValue(func() nagReport { return nagged(sampleManifest()) })
)

// TestAwsSolutionsChecks applies cdk-nag's AwsSolutions pack to the stack,
// with the real manifest and with the sample that has every kind of
// function, a rule and schedules. Any error or warning not suppressed fails
// the test; every suppression must say why.
func TestAwsSolutionsChecks(t *testing.T) {
	for name, report := range map[string]func() nagReport{"real": realNag, "sample": sampleNag} {
		t.Run(name, func(t *testing.T) {
			r := report()
			if r.synthErr != "" {
				t.Errorf("synthesis failed: %.300s", r.synthErr)
			}
			counts := map[string]int{}
			reasons := map[string]bool{}
			for _, f := range r.findings {
				switch f.Compliance {
				case "Non-Compliant":
					counts[f.Level]++
					t.Errorf("%s %s on %s", f.Level, f.Rule, f.Resource)
				case "Suppressed":
					counts["Suppressed"]++
					if len(strings.TrimSpace(f.Reason)) < 20 {
						t.Errorf("%s on %s is suppressed without a reason", f.Rule, f.Resource)
					}
					reasons[f.Rule+" — "+f.Reason] = true
				}
			}
			keys := make([]string, 0, len(reasons))
			for k := range reasons {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			t.Logf("cdk-nag AwsSolutions (%s manifest): %d errors, %d warnings, %d suppressed findings:\n  %s",
				name, counts["Error"], counts["Warning"], counts["Suppressed"], strings.Join(keys, "\n  "))
		})
	}
}
