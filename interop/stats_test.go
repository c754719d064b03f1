package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// statsLabel picks the label of a --stats line and of the closing lines,
// whose order and wording must be upstream's.
var statsLabel = regexp.MustCompile(`^(Number of [a-z ]+|Total [a-z ]+|Literal data|Matched data|File list [a-z ]+|sent|total size is)\b`)

// statsLabels returns the labels of out's summary lines in order.
func statsLabels(out string) []string {
	var labels []string
	for _, l := range strings.Split(out, "\n") {
		if m := statsLabel.FindString(l); m != "" {
			labels = append(labels, m)
		}
	}
	return labels
}

// near reports whether got is within 3% (or 100 bytes, for small counts)
// of want: the byte totals depend on how each implementation frames its
// stream, not on what it transfers.
func near(got, want int64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	return d <= 100 || d*100 <= want*3
}

// TestStatsMatchUpstream compares gorsync's --stats and closing lines with
// upstream's for a fresh copy and a delta update, as a local copy, pushed
// and pulled in every pairing: the lines in upstream's order, the counts
// exactly, and the byte totals (a local copy's included, whose file data
// gorsync hands over outside the stream) within a few percent. "File list
// size" is left out: rsync counts what its buffers have flushed while the
// list goes out (0 for a sender's small incremental lists), which depends
// on each implementation's buffer sizes.
func TestStatsMatchUpstream(t *testing.T) {
	rsynctest.RequireRsync(t)
	rsynctest.BuildGorsync(t)
	base := t.TempDir()
	r := optRoots{a: filepath.Join(base, "A"), b: filepath.Join(base, "B"), rsh: filepath.Join(base, "localrsh")}
	rsynctest.MakeStandardTree(t, r.a, optSeed, rsynctest.TreeOptions{BigFileSize: 4 << 20})
	optCopy(t, r.a, r.b)
	rsynctest.EditTree(t, r.b, optSeed+1)
	if err := os.WriteFile(r.rsh, []byte("#!/bin/sh\nshift\nexec sh -c \"$*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []optCase{
		{name: "fresh", setup: optSrc(""), args: []string{"-a"}, srcs: []string{"src/"}, dst: "dst/"},
		{name: "delta", setup: optSrcDst, args: []string{"-a", "--no-W"}, srcs: []string{"src/"}, dst: "dst/"},
		{name: "whole", setup: optSrcDst, args: []string{"-a", "-W"}, srcs: []string{"src/"}, dst: "dst/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			template := filepath.Join(t.TempDir(), "template")
			if err := os.Mkdir(template, 0o755); err != nil {
				t.Fatal(err)
			}
			c.setup(t, r, template)
			refs := map[string]optResult{}
			for _, m := range optReferences {
				refs[m.name] = m.run(t, c, r, template)
			}
			for _, m := range optModes() {
				t.Run(m.name, func(t *testing.T) {
					want := refs[optReference(m).name]
					got := m.run(t, c, r, template)
					compareStats(t, want.stdout, got.stdout)
				})
			}
		})
	}
}

func compareStats(t *testing.T, want, got string) {
	t.Helper()
	if w, g := statsLabels(want), statsLabels(got); !slices.Equal(w, g) {
		t.Errorf("summary lines %q, upstream %q", g, w)
	}
	ws, err := rsynctest.ParseStats(want)
	if err != nil {
		t.Fatalf("upstream stats: %v", err)
	}
	gs, err := rsynctest.ParseStats(got)
	if err != nil {
		t.Fatalf("stats: %v\n%s", err, got)
	}
	exact := []struct {
		name      string
		want, got any
	}{
		{"Number of files", ws.NumFiles, gs.NumFiles},
		{"Number of created files", ws.CreatedFiles, gs.CreatedFiles},
		{"Number of deleted files", ws.DeletedFiles, gs.DeletedFiles},
		{"Number of regular files transferred", ws.RegularFilesTransferred, gs.RegularFilesTransferred},
		{"Total file size", ws.TotalFileSize, gs.TotalFileSize},
		{"Total transferred file size", ws.TotalTransferredFileSize, gs.TotalTransferredFileSize},
		{"Literal data", ws.LiteralData, gs.LiteralData},
		{"Matched data", ws.MatchedData, gs.MatchedData},
		{"total size", ws.TotalSize, gs.TotalSize},
	}
	for _, f := range exact {
		if f.want != f.got {
			t.Errorf("%s: %v, upstream %v", f.name, f.got, f.want)
		}
	}
	for _, f := range []struct {
		name      string
		want, got int64
	}{
		{"Total bytes sent", ws.TotalBytesSent, gs.TotalBytesSent},
		{"Total bytes received", ws.TotalBytesReceived, gs.TotalBytesReceived},
		{"sent", ws.Sent, gs.Sent},
		{"received", ws.Received, gs.Received},
	} {
		if !near(f.got, f.want) {
			t.Errorf("%s: %d, upstream %d (more than 3%% apart)", f.name, f.got, f.want)
		}
	}
	if t.Failed() {
		t.Logf("gorsync:\n%s\nupstream:\n%s", got, want)
	}
}
