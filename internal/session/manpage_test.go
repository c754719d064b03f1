package session

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/options"
)

var updateMan = flag.Bool("update-man", false, "rewrite doc/gorsync.1 from --help")

// TestManPage checks that doc/gorsync.1 is what ManPage renders from the
// --help text (go test ./internal/session -run TestManPage -update-man
// rewrites it), that every option --help lists is in it, and that man(1)
// can format it where man is installed.
func TestManPage(t *testing.T) {
	path := filepath.Join("..", "..", "doc", "gorsync.1")
	want := ManPage()
	if *updateMan {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatal("doc/gorsync.1 is not what --help renders: run go test ./internal/session -run TestManPage -update-man")
	}
	_, opts, _ := strings.Cut(options.Usage(), "\nOptions\n")
	for _, l := range strings.Split(strings.TrimSpace(opts), "\n") {
		name := strings.Fields(l)[0]
		name = strings.TrimSuffix(name, ",")
		if !strings.Contains(want, troff(name)) {
			t.Errorf("%s is in --help but not in the man page", name)
		}
	}
	if man, err := exec.LookPath("man"); err == nil {
		out, err := exec.Command(man, "-l", "-Tutf8", path).CombinedOutput()
		plain := regexp.MustCompile(".\b").ReplaceAllString(string(out), "") // overstrike
		if err != nil || !strings.Contains(plain, "EXIT VALUES") || !strings.Contains(plain, "--delete-during") {
			t.Errorf("man -l: %v\n%s", err, out)
		}
	}
}
