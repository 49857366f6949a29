package local

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// Module is the root module's path; its go.mod marks the repository root.
const Module = "github.com/rapportcrm/rapport"

// DataDirName is the local stack's data directory under the repository
// root, ignored by git.
const DataDirName = ".rapport"

// StreamsDirName is the folder in the data directory where each stream
// function's poller keeps how far it has read the table's stream, so that
// a restart reads on from there, as an event source mapping does.
const StreamsDirName = "streams"

// Root returns the repository root: the nearest directory at or above dir
// whose go.mod declares Module (infra/cdk has a go.mod of its own).
func Root(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for d := dir; ; d = filepath.Dir(d) {
		if declaresModule(filepath.Join(d, "go.mod")) {
			return d, true
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

func declaresModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == Module
		}
	}
	return false
}

// DefaultDir is the data directory `make dev` uses: .rapport under the
// repository root above the working directory, or under the working
// directory itself outside the repository.
func DefaultDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return DataDirName
	}
	if root, ok := Root(wd); ok {
		return filepath.Join(root, DataDirName)
	}
	return filepath.Join(wd, DataDirName)
}

// display shows path relative to the working directory when it lies below
// it, for short log lines and banners.
func display(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
