package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cdk.json pins every feature flag the pinned aws-cdk-lib recommends, at
// the recommended value. Unpinned flags take their old defaults and the CLI
// prints a notice; pinned, an upgrade of the library cannot change the
// template silently: it fails here, naming each new flag to decide on.
func TestFeatureFlagsArePinned(t *testing.T) {
	recommended, version := recommendedFlags(t)
	ctx, err := rootContext()
	if err != nil {
		t.Fatal(err)
	}
	for flag, want := range recommended {
		got, ok := ctx[flag]
		if !ok {
			t.Errorf("cdk.json does not pin %s (aws-cdk-lib %s recommends %s)", flag, version, jsonOf(want))
			continue
		}
		if !same(got, want) {
			t.Errorf("cdk.json sets %s to %s; aws-cdk-lib %s recommends %s",
				flag, jsonOf(got), version, jsonOf(want))
		}
	}
}

// recommendedFlags reads recommended-feature-flags.json from the aws-cdk-lib
// package that the Go module in go.mod embeds for the jsii runtime.
func recommendedFlags(t *testing.T) (map[string]any, string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", "github.com/aws/aws-cdk-go/awscdk/v2").Output()
	if err != nil {
		t.Fatalf("go list the CDK module: %v", err)
	}
	dir, version, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	tgz := filepath.Join(dir, "jsii", "aws-cdk-lib-"+strings.TrimPrefix(version, "v")+".tgz")
	f, err := os.Open(tgz)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s has no recommended-feature-flags.json", tgz)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "package/recommended-feature-flags.json" {
			continue
		}
		var flags map[string]any
		if err := json.NewDecoder(tr).Decode(&flags); err != nil {
			t.Fatal(err)
		}
		return flags, version
	}
}
