package filter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
	"github.com/gorsync/gorsync/internal/wire"
)

// recordedRules extracts the filter list from the bytes an upstream
// client wrote to its server: the 4-byte version, then (protocol 30 and
// later) MSG_DATA frames, holding length-prefixed rules ending in 0.
func recordedRules(t *testing.T, rec []byte, protocol int) []string {
	t.Helper()
	if len(rec) < 4 {
		t.Fatalf("recording too short: %d bytes", len(rec))
	}
	data := rec[4:]
	if protocol >= 30 {
		var plain []byte
		for len(data) >= 4 {
			h := binary.LittleEndian.Uint32(data)
			n := int(h & 0xffffff)
			if h>>24 != 7 || 4+n > len(data) {
				break
			}
			plain = append(plain, data[4:4+n]...)
			data = data[4+n:]
		}
		data = plain
	}
	rules, err := ReadRules(wire.NewReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatalf("parse recording: %v", err)
	}
	return rules
}

// TestWireRulesMatchUpstream compares the rules SendList produces with
// the rules upstream's client sends, recorded through a remote shell that
// tees its input: pulls (the server is the sender, which always gets the
// list) and pushes with --delete, at protocols 29, 30 and 32.
func TestWireRulesMatchUpstream(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(filepath.Join(src, "a.o"), "x"); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(filepath.Join(tmp, "merged"), "- *.tmp\n+ keep/\n"); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(tmp, "rec.sh")
	script := "#!/bin/bash\nshift\nexec sh -c \"$*\" < <(tee \"$RECFILE\")\n"
	if err := os.WriteFile(rec, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ruleSets := [][]string{
		{"--exclude=*.o", "--include=*/", "--exclude=/top"},
		{"--filter=H hidden", "--filter=S shown", "--filter=P prot/", "--filter=R risky"},
		{"--filter=-p perish", "--filter=-sp both", "--filter=-!/ neg"},
		{"--filter=dir-merge .rules", "--filter=:n- .ex", "--filter=:e+ .in", "--filter=:w .w"},
		{"--filter=merge " + filepath.Join(tmp, "merged"), "--exclude=- dash", "--include=+ plus"},
		{"-F", "-F", "--exclude=x"},
		{"-C", "--exclude=y"},
		{"--filter=-C", "--filter=:C"},
		{"--delete-excluded", "--exclude=*.o", "--filter=P keep", "--filter=:- .f", "--filter=: .g"},
		{"--filter=-x user.*", "--filter=clear", "--exclude=after"},
	}
	for _, protocol := range []int{29, 30, 32} {
		for _, push := range []bool{false, true} {
			for i, set := range ruleSets {
				name := "pull"
				if push {
					name = "push"
				}
				t.Run(name+"/"+strconv.Itoa(protocol)+"/"+strconv.Itoa(i), func(t *testing.T) {
					recFile := filepath.Join(tmp, "rec.bin")
					os.Remove(recFile)
					args := []string{"--protocol=" + strconv.Itoa(protocol), "-n", "-r", "-e", rec}
					if protocol >= 30 {
						args = append(args, "--checksum-choice=md5")
					}
					args = append(args, set...)
					dst := filepath.Join(tmp, "dst") + "/"
					if push {
						args = append(args, "--delete", src+"/", "localhost:"+dst)
					} else {
						args = append(args, "localhost:"+src+"/", dst)
					}
					_, stderr, code := rsynctest.Run(t, tmp, []string{"RECFILE=" + recFile, "HOME=" + tmp, "CVSIGNORE="}, rsync, args...)
					raw, _ := os.ReadFile(recFile)
					l := buildListNoCVS(t, set, Options{Protocol: protocol, Home: tmp})
					got, err := l.SendList(protocol, push, contains(set, "-C"))
					if code != 0 {
						// Upstream refused the rules for this protocol.
						var fe *Error
						if !errors.As(err, &fe) || !strings.Contains(stderr, fe.Msg) || fe.Code != code {
							t.Errorf("upstream exit %d (%s); we: %v", code, strings.TrimSpace(stderr), err)
						}
						return
					}
					if err != nil {
						t.Fatalf("SendList: %v", err)
					}
					want := recordedRules(t, raw, protocol)
					if strings.Join(got, "\n") != strings.Join(want, "\n") {
						t.Errorf("rules %q:\n got  %q\n want %q", set, got, want)
					}
				})
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// buildListNoCVS is buildList without applying -C, which SendList does.
func buildListNoCVS(t *testing.T, args []string, opts Options) *List {
	var rest []string
	for _, a := range args {
		if a != "-C" {
			rest = append(rest, a)
		}
	}
	return buildList(t, rest, opts)
}

// TestReceiveRoundTrip checks that what WireRules sends parses back, on
// the server, to rules that send the same strings again.
func TestReceiveRoundTrip(t *testing.T) {
	for _, protocol := range []int{28, 29, 30, 32} {
		l := New(Options{Protocol: protocol})
		for _, r := range []string{"- *.o", "+ */", "- /top/", ": .rules", "-s hide", "-r prot", "- + odd", "+! neg"} {
			if err := l.AddFilter(r); err != nil {
				t.Fatal(err)
			}
		}
		sent, err := l.WireRules(protocol, false)
		if err != nil {
			if protocol < 29 {
				continue // dir-merge cannot be sent before 29
			}
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w := wire.NewWriter(&buf)
		WriteRules(w, sent)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		got, err := ReadRules(wire.NewReader(&buf))
		if err != nil {
			t.Fatal(err)
		}
		rl, err := Receive(got, protocol, true, false, Options{})
		if err != nil {
			t.Fatalf("protocol %d: %v", protocol, err)
		}
		again, err := rl.WireRules(protocol, false)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(again, "\n") != strings.Join(sent, "\n") {
			t.Errorf("protocol %d: sent %q, re-sent %q", protocol, sent, again)
		}
	}
}

// TestReadRulesRejectsOverlong checks that a rule length beyond rsync's
// buffer is a protocol error.
func TestReadRulesRejectsOverlong(t *testing.T) {
	for _, n := range []int32{bigPathBufLen, -1} {
		var buf bytes.Buffer
		w := wire.NewWriter(&buf)
		w.WriteInt(n)
		w.Flush()
		if _, err := ReadRules(wire.NewReader(&buf)); !errors.Is(err, wire.ErrProtocol) {
			t.Errorf("length %d: got %v, want ErrProtocol", n, err)
		}
	}
	if _, err := Receive([]string{strings.Repeat("x", bigPathBufLen)}, 31, true, false, Options{}); !errors.Is(err, wire.ErrProtocol) {
		t.Errorf("Receive over-long: got %v", err)
	}
}
