package interop

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// TestVersionShape compares gorsync's --version and -VV with upstream
// rsync's: the same headings in the same order, the same capability and
// optimization names (gorsync saying "no " where it lacks one), the same
// checksum and compression lists, and -VV as JSON with the same members, so
// that scripts and upstream's own testsuite can read it.
func TestVersionShape(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	up, _ := rsynctest.MustRun(t, "", nil, rsync, "--version")
	ours, _ := rsynctest.MustRun(t, "", nil, gorsync, "--version")
	if !strings.HasPrefix(ours, "gorsync  version ") || !strings.Contains(ours, "  protocol version 32\n") {
		t.Errorf("first line: %q", strings.SplitN(ours, "\n", 2)[0])
	}
	upSections, ourSections := versionSections(up), versionSections(ours)
	for _, h := range []string{"Capabilities", "Optimizations", "Checksum list", "Compress list"} {
		u, o := upSections[h], ourSections[h]
		if u == nil || o == nil {
			t.Errorf("%s: upstream %q, gorsync %q", h, u, o)
			continue
		}
		if h == "Capabilities" || h == "Optimizations" {
			u, o = stripNo(u), stripNo(o)
		}
		if h == "Capabilities" {
			// upstream's ACL-at (ACLs on a daemon's chroot) goes with ACLs.
			u = slices.DeleteFunc(u, func(s string) bool { return s == "ACL-at" })
		}
		if !slices.Equal(u, o) {
			t.Errorf("%s differ:\nupstream %q\n gorsync %q", h, u, o)
		}
	}
	if got, want := headings(ours), []string{"Capabilities", "Optimizations", "Checksum list", "Compress list"}; !slices.Equal(got, want) {
		t.Errorf("headings %q, want %q (no daemon, so no auth list)", got, want)
	}

	upJSON, _ := rsynctest.MustRun(t, "", nil, rsync, "-VV")
	ourJSON, _ := rsynctest.MustRun(t, "", nil, gorsync, "-VV")
	var u, o map[string]any
	if err := json.Unmarshal([]byte(upJSON), &u); err != nil {
		t.Fatalf("upstream -VV: %v", err)
	}
	if err := json.Unmarshal([]byte(ourJSON), &o); err != nil {
		t.Fatalf("gorsync -VV is not JSON: %v\n%s", err, ourJSON)
	}
	if o["program"] != "gorsync" || o["protocol"] != u["protocol"] {
		t.Errorf("program %v protocol %v (upstream %v)", o["program"], o["protocol"], u["protocol"])
	}
	for _, k := range []string{"capabilities", "optimizations"} {
		uk, ok1 := u[k].(map[string]any)
		ok, ok2 := o[k].(map[string]any)
		if !ok1 || !ok2 {
			t.Errorf("%s: not an object", k)
			continue
		}
		delete(uk, "ACL_at")
		for name := range uk {
			if _, ok := ok[name]; !ok {
				t.Errorf("%s.%s missing", k, name)
			}
		}
		for name := range ok {
			if _, ok := uk[name]; !ok {
				t.Errorf("%s.%s is not upstream's", k, name)
			}
		}
	}
	for _, k := range []string{"checksum_list", "compress_list"} {
		if !slices.Equal(toStrings(u[k]), toStrings(o[k])) {
			t.Errorf("%s: upstream %v, gorsync %v", k, u[k], o[k])
		}
	}
}

// versionSections maps each "Heading:" of --version to its items.
func versionSections(out string) map[string][]string {
	m := map[string][]string{}
	var cur string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasSuffix(l, ":") && !strings.HasPrefix(l, " "):
			cur = strings.TrimSuffix(l, ":")
			m[cur] = []string{}
		case strings.HasPrefix(l, "    ") && cur != "":
			sep := "," // capability lines; the name lists are space separated
			if strings.HasSuffix(cur, " list") {
				sep = " "
			}
			for _, it := range strings.Split(l, sep) {
				if it = strings.TrimSpace(it); it != "" {
					m[cur] = append(m[cur], it)
				}
			}
		default:
			cur = ""
		}
	}
	return m
}

func headings(out string) []string {
	var hs []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(l, ":") && !strings.HasPrefix(l, " ") {
			hs = append(hs, strings.TrimSuffix(l, ":"))
		}
	}
	return hs
}

// stripNo drops "no " and rsync's "optional "/"default " qualifiers.
func stripNo(items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		for _, p := range []string{"no ", "optional ", "default "} {
			it = strings.TrimPrefix(it, p)
		}
		out[i] = it
	}
	return out
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
