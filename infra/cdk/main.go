// Command cdk is Rapport's CDK app. `go run .` here (or `make synth`)
// writes the CloudFormation template to cdk.out with no network and no AWS
// credentials; `npx cdk deploy` at the repository root runs it through
// cdk.json and deploys it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// repoRoot is the repository root seen from infra/cdk, where both
// `go run .` and the command in cdk.json run this app.
var repoRoot = filepath.Join("..", "..")

func main() {
	assets := flag.String("assets", DefaultAssetDir, "directory holding NAME/bootstrap for every function")
	stageFlag := flag.String("stage", "", "dev or prod; overrides the "+CtxStage+" context (default dev)")
	flag.Parse()
	defer jsii.Close()

	if err := checkAssets(DefaultManifest(), *assets); err != nil {
		fmt.Fprintln(os.Stderr, "rapport:", err)
		os.Exit(1)
	}
	if err := resolveCLIPaths(os.Getenv, os.Setenv); err != nil {
		fmt.Fprintln(os.Stderr, "rapport:", err)
		os.Exit(1)
	}
	// The jsii runtime took its copy of the environment for the CDK's node
	// process when the packages were initialized; closing it makes the next
	// call start one with the paths resolved.
	jsii.Close()
	props := &awscdk.AppProps{Outdir: jsii.String(outdir())}
	if os.Getenv("CDK_OUTDIR") == "" {
		// Run directly rather than by the CDK CLI, which would have passed
		// cdk.json's context itself: read it from there, so `make synth`
		// and `cdk synth` produce the same template.
		ctx, err := rootContext()
		if err != nil {
			fmt.Fprintln(os.Stderr, "rapport:", err)
			os.Exit(1)
		}
		props.Context = &ctx
	}
	app := awscdk.NewApp(props)
	stage, err := appStage(app, *stageFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rapport:", err)
		os.Exit(1)
	}
	// A bad setting stops the stack's construction with a panic naming the
	// key (the tests rely on it); a person running synth gets the message,
	// not a stack trace.
	defer func() {
		if p := recover(); p != nil {
			if msg, ok := p.(string); ok && strings.HasPrefix(msg, "rapport: ") {
				fmt.Fprintln(os.Stderr, msg)
				os.Exit(1)
			}
			panic(p)
		}
	}()
	// No Env: the template is environment-agnostic, so synthesis needs no
	// credentials and `cdk deploy` targets the account and region of the
	// caller's AWS profile. One stack per stage, named for it.
	NewRapportStack(app, stage.StackName(), &RapportStackProps{
		AssetDir: *assets,
		Stage:    stage,
		StackProps: awscdk.StackProps{
			Description: jsii.String("Rapport " + string(stage) + ": serverless CRM (leads, tickets, surveys, scorecard)"),
		},
	})
	app.Synth(nil)
}

// appStage is the stage named by the -stage flag, else by the
// rapport:stage context, else StageDev: trying things out is the default,
// production is chosen.
func appStage(app awscdk.App, flagged string) (Stage, error) {
	if flagged != "" {
		return ParseStage(flagged)
	}
	v, err := contextString(app.Node(), CtxStage)
	if err != nil {
		return "", err
	}
	if v == "" {
		return StageDev, nil
	}
	return ParseStage(v)
}

// outdir is where the cloud assembly goes. The CDK CLI names it in
// CDK_OUTDIR relative to the directory it runs in, the repository root,
// while this app runs in infra/cdk; resolve it against the root so both
// agree. Run directly, the assembly goes to cdk.out here.
func outdir() string {
	dir := os.Getenv("CDK_OUTDIR")
	switch {
	case dir == "":
		return "cdk.out"
	case filepath.IsAbs(dir):
		return dir
	default:
		return filepath.Join(repoRoot, dir)
	}
}

// cliPathVariables are the files the CDK CLI names to the app relative to
// the repository root; aws-cdk-lib writes to them as given.
var cliPathVariables = []string{"CDK_PERF_COUNTERS_FILE"}

// resolveCLIPaths rewrites the relative paths the CLI passes in the
// environment against the repository root, since this app runs in
// infra/cdk (like outdir does for CDK_OUTDIR).
func resolveCLIPaths(getenv func(string) string, setenv func(string, string) error) error {
	for _, k := range cliPathVariables {
		if v := getenv(k); v != "" && !filepath.IsAbs(v) {
			if err := setenv(k, filepath.Join(repoRoot, v)); err != nil {
				return err
			}
		}
	}
	return nil
}

// rootContext returns the "context" object of the repository's cdk.json.
func rootContext() (map[string]any, error) {
	body, err := os.ReadFile(filepath.Join(repoRoot, "cdk.json"))
	if err != nil {
		return nil, fmt.Errorf("read cdk.json: %w", err)
	}
	var file struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(body, &file); err != nil {
		return nil, fmt.Errorf("parse cdk.json: %w", err)
	}
	return file.Context, nil
}

// checkAssets names the first function whose binary has not been built,
// instead of letting CDK fail on a path with a stack trace.
func checkAssets(m Manifest, dir string) error {
	for _, f := range m.Functions {
		p := filepath.Join(dir, f.Name, "bootstrap")
		info, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("function %s has no binary at %s: run `make build` at the repository root first", f.Name, p)
		}
		// The asset zip keeps the file's mode; Lambda cannot start a
		// bootstrap that is not executable.
		if info.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not executable", p)
		}
	}
	return nil
}
