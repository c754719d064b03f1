package session

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/fastio"
)

// The tests of this file swap a directory for a symbolic link to a
// directory outside the tree at the point a transfer is most exposed to
// it, through the engine's hooks (issue 9, items 5 and 6), with gorsync on
// both ends and against upstream rsync: no data from outside may reach
// the destination, and nothing outside may be written.

const raceSecret = "SECRET from outside the tree\n"

// raceBase makes base/src (top, d/f, d/g) and base/outside (f, g and
// keep, each holding raceSecret).
func raceBase(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	for name, data := range map[string]string{
		"src/top": "top\n", "src/d/f": "f\n", "src/d/g": "g\n",
		"outside/f": raceSecret, "outside/g": raceSecret, "outside/keep": raceSecret,
	} {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return base
}

// swapDir moves the directory path aside (to path+".away", still where it
// was) and puts a symbolic link to target in its place.
func swapDir(t *testing.T, path, target string) {
	t.Helper()
	if err := os.Rename(path, path+".away"); err != nil {
		t.Error(err)
		return
	}
	if err := os.Symlink(target, path); err != nil {
		t.Error(err)
	}
}

// noSecretIn fails if a file beneath dir holds raceSecret.
func noSecretIn(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if data, _ := os.ReadFile(p); bytes.Contains(data, []byte(raceSecret)) {
				t.Errorf("%s holds data from outside the tree", p)
			}
		}
		return nil
	})
}

// outsideUntouched fails unless base/outside holds exactly f, g and keep.
func outsideUntouched(t *testing.T, base string) {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(base, "outside"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	if strings.Join(names, " ") != "f g keep" {
		t.Errorf("outside the destination: %q, want only f g keep", names)
	}
	for _, n := range names {
		if data, _ := os.ReadFile(filepath.Join(base, "outside", n)); string(data) != raceSecret {
			t.Errorf("outside/%s was changed: %q", n, data)
		}
	}
}

// runRace runs args locally (peer "gorsync") or against upstream rsync's
// server ("localhost:" marks its side), with adjust applied.
func runRace(t *testing.T, peer string, args []string, adjust func(*Config)) (code int, stderr string) {
	t.Helper()
	var stdout, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &errb}
	if peer == "gorsync" {
		for i, a := range args {
			args[i] = strings.TrimPrefix(a, "localhost:")
		}
		code = runMain(context.Background(), args, env, adjust)
	} else {
		code = exitcode.Of(runUpstream(t, args, env, adjust))
	}
	return code, stdout.String() + errb.String()
}

// TestSenderRefusesSwappedSource swaps src/d for a link to outside once
// the sender's list is built, before it opens d's files: in a local copy
// and pushing to upstream's receiver, with and without --checksum and the
// batched walk, the files are refused as rsync 3.5.0 refuses them
// ("send_files failed to open ...: Too many levels of symbolic links
// (40)", exit 23) and nothing from outside arrives.
func TestSenderRefusesSwappedSource(t *testing.T) {
	for _, peer := range []string{"gorsync", "upstream"} {
		for _, batch := range []bool{true, false} {
			for _, extra := range []string{"-W", "-c"} {
				name := peer + "/batch=" + map[bool]string{true: "on", false: "off"}[batch] + "/" + extra
				t.Run(name, func(t *testing.T) {
					base := raceBase(t)
					src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
					adjust := func(cfg *Config) {
						cfg.IO = cfg.IO.With(fastio.Batch, batch)
						cfg.Hooks.Listed = func() { swapDir(t, filepath.Join(src, "d"), filepath.Join(base, "outside")) }
					}
					code, out := runRace(t, peer, []string{"-a", extra, src + "/", "localhost:" + dst + "/"}, adjust)
					if code != 23 {
						t.Errorf("exit code %d, want 23\n%s", code, out)
					}
					want := `send_files failed to open "` + filepath.Join(src, "d/f") + `": Too many levels of symbolic links (40)`
					if !strings.Contains(out, want) {
						t.Errorf("no %q in\n%s", want, out)
					}
					noSecretIn(t, dst)
					if data, err := os.ReadFile(filepath.Join(dst, "top")); string(data) != "top\n" {
						t.Errorf("top: %q, %v", data, err)
					}
					outsideUntouched(t, base)
				})
			}
		}
	}
}

// TestReceiverRefusesSwappedDestination swaps a directory the receiver has
// just made on the way to the destination (the destination itself,
// --mkpath's components) for a link to outside: locally and pulling from
// upstream's sender, with and without the directory cache, the transfer
// must fail or stay inside, and write nothing outside.
func TestReceiverRefusesSwappedDestination(t *testing.T) {
	cases := []struct {
		name string
		args []string // "DST" is base/dst
		swap string   // beneath base
	}{
		{"new-dst", []string{"DST/new/"}, "dst/new"},
		{"mkpath-middle", []string{"--mkpath", "DST/a/b/c/"}, "dst/a/b"},
		{"mkpath-last", []string{"--mkpath", "DST/a/b/c/"}, "dst/a/b/c"},
		{"mkpath-file", []string{"--mkpath", "DST/a/b/top"}, "dst/a/b"},
		{"mkpath-many", []string{"--mkpath", "DST/a/b"}, "dst/a/b"},
	}
	for _, peer := range []string{"gorsync", "upstream"} {
		for _, batch := range []bool{true, false} {
			for _, c := range cases {
				t.Run(peer+"/"+c.name+"/batch="+map[bool]string{true: "on", false: "off"}[batch], func(t *testing.T) {
					base := raceBase(t)
					src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
					if err := os.Mkdir(dst, 0o755); err != nil {
						t.Fatal(err)
					}
					swapped := false
					adjust := func(cfg *Config) {
						cfg.IO = cfg.IO.With(fastio.Batch, batch)
						cfg.Hooks.MadeDir = func(p string) {
							if filepath.Clean(p) == filepath.Join(base, c.swap) {
								swapDir(t, p, filepath.Join(base, "outside"))
								swapped = true
							}
						}
					}
					srcArg := "localhost:" + src + "/"
					if strings.HasSuffix(c.args[len(c.args)-1], "/top") {
						srcArg = "localhost:" + src + "/top"
					}
					args := []string{"-a", srcArg}
					for _, a := range c.args {
						args = append(args, strings.Replace(a, "DST", dst, 1))
					}
					code, out := runRace(t, peer, args, adjust)
					if !swapped {
						t.Fatalf("%s was not made (exit %d)\n%s", c.swap, code, out)
					}
					if code == 0 {
						t.Errorf("exit code 0 with the destination swapped\n%s", out)
					}
					outsideUntouched(t, base)
				})
			}
		}
	}
}

// TestSenderRefusesSwappedAnchor gives -R two arguments, the tree and a
// file inside src/d by its path: src/d is then reached by the user's name
// for the second, and through held directories for the first. Swapped for
// a link to outside after the walk, it must not lead the first argument's
// files there (only the named file's own path is followed, as upstream
// follows it; here it has no twin outside, so it vanishes).
func TestSenderRefusesSwappedAnchor(t *testing.T) {
	for _, peer := range []string{"gorsync", "upstream"} {
		t.Run(peer, func(t *testing.T) {
			base := raceBase(t)
			if err := os.WriteFile(filepath.Join(base, "src/d/only"), []byte("only\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(base, "dst")
			adjust := func(cfg *Config) {
				cfg.Hooks.Listed = func() { swapDir(t, filepath.Join(base, "src/d"), filepath.Join(base, "outside")) }
			}
			code, out := runRace(t, peer, []string{"-aR", base + "/./src/", base + "/./src/d/only", "localhost:" + dst + "/"}, adjust)
			if code != 24 && code != 23 {
				t.Errorf("exit code %d, want 23 or 24\n%s", code, out)
			}
			noSecretIn(t, dst)
			if data, err := os.ReadFile(filepath.Join(dst, "src/top")); string(data) != "top\n" {
				t.Errorf("src/top: %q, %v", data, err)
			}
			outsideUntouched(t, base)
		})
	}
}
