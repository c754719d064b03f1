package filter

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// baseTree is the source tree every upstream case starts from: nested
// directories, dotfiles, names with wildcard characters, and the names
// rsync's -C list ignores. A trailing "/" makes an empty directory.
var baseTree = []string{
	"a.o", "b.c", "core", "foo.bak", "foo~", ".hidden", "[x].txt", "x.txt",
	"star*", "q?x", "Makefile", "tags", "#auto", "README", "Zeta.C",
	"dir1/a.o", "dir1/b.c", "dir1/core", "dir1/sub/f.txt", "dir1/sub/g.log",
	"dir1/sub/deep/z.c", "CVS/Entries", ".git/config", "build/out.bin",
	"build/obj/a.o", "logs/1.log", "logs/2.log", "logs/keep.log",
	"src/main.c", "src/util.c", "src/lib/lib.c", "src/lib/lib.h",
	"src/CVS/Root", "src/sub/build/x.c", "Src2/A.C", "Src2/b9.c", "emptydir/",
}

// upstreamCase is one set of rsync filter options applied to baseTree.
// In args, "@SRC@" stands for the source directory's absolute path and
// "@TMP@" for the case's scratch directory (for files outside the tree).
type upstreamCase struct {
	name  string
	args  []string
	files map[string]string // extra files: "src/..." in the tree, others in @TMP@
	env   map[string]string // CVSIGNORE
}

var upstreamCases = []upstreamCase{
	{name: "none"},
	{name: "exclude-star-ext", args: []string{"--exclude=*.o"}},
	{name: "anchored", args: []string{"--exclude=/core"}},
	{name: "unanchored-basename", args: []string{"--exclude=core"}},
	{name: "infix-slash", args: []string{"--exclude=dir1/sub"}},
	{name: "infix-slash-file", args: []string{"--exclude=lib/lib.c"}},
	{name: "dir-only", args: []string{"--exclude=sub/"}},
	{name: "dir-only-file-name", args: []string{"--exclude=b.c/"}},
	{name: "starstar-prefix", args: []string{"--exclude=**/build"}},
	{name: "starstar-infix", args: []string{"--exclude=src/**/*.c"}},
	{name: "starstar-anchored", args: []string{"--exclude=/src/**.c"}},
	{name: "starstar-trailing", args: []string{"--exclude=dir1/**"}},
	{name: "wild3-anchored", args: []string{"--include=/src/***", "--exclude=*"}},
	{name: "wild3-unanchored", args: []string{"--exclude=sub/***"}},
	{name: "include-dirs-idiom", args: []string{"--include=*/", "--include=*.c", "--exclude=*"}},
	{name: "include-before-exclude", args: []string{"--include=keep.log", "--exclude=*.log"}},
	{name: "exclude-before-include", args: []string{"--exclude=*.log", "--include=keep.log"}},
	{name: "class-range", args: []string{"--exclude=[a-b].*"}},
	{name: "class-posix", args: []string{"--exclude=[[:upper:]]*"}},
	{name: "class-digit", args: []string{"--exclude=*[[:digit:]]*"}},
	{name: "class-negated", args: []string{"--exclude=[!a-m]*"}},
	{name: "class-caret", args: []string{"--exclude=[^.a-z]*"}},
	{name: "escaped-brackets", args: []string{`--exclude=\[x\].txt`}},
	{name: "literal-brackets-class", args: []string{"--exclude=[[]x].txt"}},
	{name: "escaped-star", args: []string{`--exclude=star\*`}},
	{name: "question", args: []string{"--exclude=?.o", "--exclude=q?x"}},
	{name: "filter-anchored-dir", args: []string{"--filter=- /dir1/sub/"}},
	{name: "negate", args: []string{"--filter=-! */", "--filter=-! *.c"}},
	{name: "negate-include", args: []string{"--filter=+! *.o", "--filter=- *"}},
	{name: "sender-side-s", args: []string{"--filter=-s *.o"}},
	{name: "receiver-side-r", args: []string{"--filter=-r *.o"}},
	{name: "hide-show", args: []string{"--filter=S dir1/core", "--filter=H core", "--filter=hide *.c"}},
	{name: "protect-risk", args: []string{"--filter=P *.c", "--filter=R core", "--filter=protect logs/"}},
	{name: "perishable", args: []string{"--filter=-p core", "--filter=-ps *.bak"}},
	{name: "clear", args: []string{"--exclude=*.o", "--filter=clear", "--exclude=*.c"}},
	{name: "clear-bang", args: []string{"--exclude=*.o", "--filter=!", "--exclude=core"}},
	{name: "long-names", args: []string{"--filter=include *.c", "--filter=include */", "--filter=exclude *"}},
	{name: "underscore", args: []string{"--filter=-_*.o", "--filter=+,_core", "--filter=-_core"}},
	{name: "old-prefix-exclude", args: []string{"--exclude=+ *.o", "--exclude=*.c", "--include=- core"}},
	{name: "abs-modifier", args: []string{"--filter=-/ @SRC@/core"}},
	{name: "xattr-only", args: []string{"--filter=-x *.o"}},
	{name: "delete-excluded", args: []string{"--delete-excluded", "--exclude=*.o"}},
	{name: "dash-F", args: []string{"-F"}, files: map[string]string{
		"src/.rsync-filter":      "- *.o\n# comment\n; comment\n",
		"src/dir1/.rsync-filter": "- /sub/g.log\n+ core\n- core\n",
		"src/src/.rsync-filter":  "- lib/\n",
	}},
	{name: "dash-FF", args: []string{"-F", "-F"}, files: map[string]string{
		"src/.rsync-filter":      "- *.o\n",
		"src/dir1/.rsync-filter": "- sub\n",
	}},
	{name: "dir-merge-inherit", args: []string{"--filter=dir-merge .rules"}, files: map[string]string{
		"src/.rules":          "- *.log\n- /x.txt\n",
		"src/dir1/.rules":     "+ g.log\n- b.c\n",
		"src/dir1/sub/.rules": "- /deep/\n",
	}},
	{name: "dir-merge-no-inherit", args: []string{"--filter=:n .rules"}, files: map[string]string{
		"src/.rules":      "- *.log\n- *.c\n",
		"src/dir1/.rules": "- core\n",
	}},
	{name: "dir-merge-exclude-self", args: []string{"--filter=:e .rules"}, files: map[string]string{
		"src/.rules":      "- *.o\n",
		"src/logs/.rules": "- 1.log\n",
	}},
	{name: "dir-merge-minus", args: []string{"--filter=:- .excl"}, files: map[string]string{
		"src/.excl":     "*.o\ncore\n",
		"src/src/.excl": "lib\n",
	}},
	{name: "dir-merge-plus", args: []string{"--filter=:+ .incl", "--filter=- *.c"}, files: map[string]string{
		"src/.incl":     "main.c\n",
		"src/src/.incl": "lib.c\n",
	}},
	{name: "dir-merge-word-split", args: []string{"--filter=:w .words"}, files: map[string]string{
		"src/.words":      "-_*.o +_core\t-_core\n-_*.bak",
		"src/dir1/.words": "-_b.c",
	}},
	{name: "dir-merge-clear", args: []string{"--filter=: .rules"}, files: map[string]string{
		"src/.rules":      "- *.c\n- core\n",
		"src/dir1/.rules": "!\n- a.o\n",
	}},
	{name: "dir-merge-nested", args: []string{"--filter=: .rules"}, files: map[string]string{
		"src/.rules":      ": .more\n- *.bak\n",
		"src/.more":       "- tags\n",
		"src/dir1/.more":  "- b.c\n",
		"src/dir1/.rules": "- core\n",
	}},
	{name: "dir-merge-sender-side", args: []string{"--filter=:s .rules"}, files: map[string]string{
		"src/.rules": "- *.o\n+ core\n",
	}},
	{name: "merge-file", args: []string{"--filter=merge @TMP@/rules.txt"}, files: map[string]string{
		"rules.txt": "+ dir1/\n+ dir1/*.c\n- dir1/*\n- *.o\n",
	}},
	{name: "merge-file-minus", args: []string{"--filter=.- @TMP@/pats"}, files: map[string]string{
		"pats": "*.c\nlogs\n",
	}},
	{name: "exclude-from", args: []string{"--exclude-from=@TMP@/ex"}, files: map[string]string{
		"ex": "# comment\n*.o\r\n+ core\n; another\ncore\n- README\n",
	}},
	{name: "include-from", args: []string{"--include-from=@TMP@/in", "--exclude=*"}, files: map[string]string{
		"in": "*/\n*.c\n- src/\n",
	}},
	{name: "exclude-from-clear", args: []string{"--exclude=core", "--exclude-from=@TMP@/ex"}, files: map[string]string{
		"ex": "*.o\n!\n*.c\n",
	}},
	{name: "cvs-exclude", args: []string{"-C"}, files: map[string]string{
		"src/.cvsignore":      "*.log Makefile",
		"src/dir1/.cvsignore": "b.c\n",
		"home/.cvsignore":     "README",
	}, env: map[string]string{"CVSIGNORE": "*.txt"}},
	{name: "cvs-exclude-user-first", args: []string{"-C", "--include=core", "--include=*.o"}},
	{name: "cvs-filter-rules", args: []string{"--filter=:C", "--filter=-C"}, files: map[string]string{
		"src/src/.cvsignore": "lib",
	}, env: map[string]string{"CVSIGNORE": "! *.c"}},
}

// upstreamNames runs upstream rsync over the case's tree and returns the
// names it would transfer, directories with a trailing "/".
func upstreamNames(t *testing.T, rsync, tmp, src string, args []string, env []string) []string {
	t.Helper()
	full := append([]string{"-n", "-r", "--out-format=%n"}, args...)
	full = append(full, src+"/", filepath.Join(tmp, "dst")+"/")
	out, errOut, code := rsynctest.Run(t, tmp, env, rsync, full...)
	if code != 0 {
		t.Fatalf("rsync %q: exit %d\n%s", full, code, errOut)
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if line != "" && line != "./" {
			names = append(names, line)
		}
	}
	sort.Strings(names)
	return names
}

// buildList applies the case's options to a List as rsync's option
// parser does.
func buildList(t *testing.T, args []string, opts Options) *List {
	t.Helper()
	for _, a := range args {
		if a == "--delete-excluded" {
			opts.DeleteExcluded = true
		}
	}
	l := New(opts)
	fCount, cvs := 0, false
	for _, a := range args {
		var err error
		switch {
		case a == "-F":
			fCount++
			if r := FRule(fCount); r != "" {
				err = l.AddFilter(r)
			}
		case a == "-C":
			cvs = true
		case a == "--delete-excluded":
		case strings.HasPrefix(a, "--filter="):
			err = l.AddFilter(strings.TrimPrefix(a, "--filter="))
		case strings.HasPrefix(a, "--exclude="):
			err = l.AddExclude(strings.TrimPrefix(a, "--exclude="))
		case strings.HasPrefix(a, "--include="):
			err = l.AddInclude(strings.TrimPrefix(a, "--include="))
		case strings.HasPrefix(a, "--exclude-from="):
			err = l.AddExcludeFrom(strings.TrimPrefix(a, "--exclude-from="))
		case strings.HasPrefix(a, "--include-from="):
			err = l.AddIncludeFrom(strings.TrimPrefix(a, "--include-from="))
		default:
			t.Fatalf("buildList: unhandled option %q", a)
		}
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	if cvs {
		if err := l.AddCVSExclude(); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// walkNames walks src as rsync's sender does: each directory's merge
// files are read on entering it, an excluded directory is not entered.
func walkNames(t *testing.T, l *List, src string) []string {
	t.Helper()
	st := l.NewStack(OSFS{Dir: src})
	var names []string
	var walk func(dir string)
	walk = func(dir string) {
		if err := st.Push(dir); err != nil {
			t.Fatalf("push %q: %v", dir, err)
		}
		defer st.Pop()
		ents, err := os.ReadDir(filepath.Join(src, dir))
		if err != nil {
			t.Fatal(err)
		}
		var subdirs []string
		for _, e := range ents {
			rel := e.Name()
			if dir != "" {
				rel = dir + "/" + rel
			}
			if st.CheckSide(rel, e.IsDir(), SenderSide, false) == Excluded {
				continue
			}
			if e.IsDir() {
				names = append(names, rel+"/")
				subdirs = append(subdirs, rel)
			} else {
				names = append(names, rel)
			}
		}
		for _, d := range subdirs {
			walk(d)
		}
	}
	walk("")
	sort.Strings(names)
	return names
}

// allNames lists every entry under src, directories with a trailing "/".
func allNames(t *testing.T, src string) []string {
	var names []string
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == src {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			rel += "/"
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestMatchesUpstream checks, for every case and every path of its tree,
// that the List/Stack walk sends exactly what upstream rsync sends
// (rsync -n -r --out-format=%n with the same options over the same tree).
// The expectations come from running upstream rsync live, so no golden
// file is kept.
func TestMatchesUpstream(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	decisions := 0
	for _, tc := range upstreamCases {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			src := filepath.Join(tmp, "src")
			home := filepath.Join(tmp, "home")
			for _, d := range []string{src, home} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			write := func(rel, data string) {
				p := filepath.Join(tmp, filepath.FromSlash(rel))
				if strings.HasSuffix(rel, "/") {
					if err := os.MkdirAll(p, 0o755); err != nil {
						t.Fatal(err)
					}
					return
				}
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range baseTree {
				write("src/"+f, f)
			}
			for f, data := range tc.files {
				write(f, data)
			}
			var args []string
			for _, a := range tc.args {
				a = strings.ReplaceAll(a, "@SRC@", src)
				args = append(args, strings.ReplaceAll(a, "@TMP@", tmp))
			}
			env := []string{"HOME=" + home, "CVSIGNORE=" + tc.env["CVSIGNORE"]}
			want := upstreamNames(t, rsync, tmp, src, args, env)

			l := buildList(t, args, Options{
				AbsRoot:   src,
				Home:      home,
				CVSIgnore: tc.env["CVSIGNORE"],
			})
			got := walkNames(t, l, src)
			decisions += len(allNames(t, src))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("rules %q:\n%s", tc.args, diffNames(want, got))
			}
		})
	}
	t.Logf("%d cases, %d (rule set, path) decisions", len(upstreamCases), decisions)
	if decisions < 100 {
		t.Errorf("only %d decisions", decisions)
	}
}

// diffNames describes how got differs from want.
func diffNames(want, got []string) string {
	w, g := map[string]bool{}, map[string]bool{}
	for _, n := range want {
		w[n] = true
	}
	for _, n := range got {
		g[n] = true
	}
	var b strings.Builder
	for _, n := range want {
		if !g[n] {
			b.WriteString("  upstream sends, gorsync does not: " + n + "\n")
		}
	}
	for _, n := range got {
		if !w[n] {
			b.WriteString("  gorsync sends, upstream does not: " + n + "\n")
		}
	}
	return b.String()
}
