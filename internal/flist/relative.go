package flist

import (
	"strings"
)

// Name types of a --relative argument beyond normalName and dotdirName.
const slashEndingName = 2

// FatalError is a walk problem after which rsync exits at once, with Code
// as its exit code and Msg (a whole line) as its message.
type FatalError struct {
	Code int
	Msg  string
}

func (e *FatalError) Error() string { return e.Msg }

// ExitCode is the exit code rsync uses for the problem.
func (e *FatalError) ExitCode() int { return e.Code }

// joinBase resolves a root named by an argument against --files-from's
// source directory (rsync's orig_dir).
func (w *walker) joinBase(dir string) string {
	switch {
	case w.base == "" || strings.HasPrefix(dir, "/"):
		return dir
	case dir == "":
		return w.base
	case strings.HasSuffix(w.base, "/"):
		return w.base + dir
	}
	return w.base + "/" + dir
}

// sendRelativeArg handles one source argument under --relative: the path
// is kept from its "/./" marker (or whole), its parent directories are
// sent first as implied directories, and a ".." inside the kept part is
// fatal. rsync: flist.c send_file_list (relative_paths)
func (w *walker) sendRelativeArg(arg string) {
	dir, fn := "", arg
	if i := strings.Index(arg, "/./"); i >= 0 {
		if i == 0 {
			dir = "/"
		} else {
			dir, _ = CleanName(arg[:i], 0)
		}
		fn = strings.TrimLeft(arg[i+3:], "/")
	}
	// A leading "./" names a path below the destination without making
	// its first element part of the transfer: "." goes first, implied.
	if strings.HasPrefix(fn, "./") && len(fn) > 2 && w.impliedDot == 0 {
		w.impliedDot = -1
	}
	nameType := normalName
	if fn != "" {
		fn, _ = CleanName(fn, CleanKeepTrailing|CleanDropTrailingDot)
	}
	switch {
	case fn == "/":
		fn, nameType = "/.", dotdirName
	case fn == ".":
		nameType = dotdirName
	case len(fn) > 1 && strings.HasSuffix(fn, "/"):
		fn = fn[:len(fn)-1]
		if fn == "." {
			nameType = dotdirName
		} else {
			nameType = slashEndingName
		}
	}
	for _, part := range strings.Split(fn, "/") {
		if part == ".." {
			w.fatal = &FatalError{Code: 1, Msg: `found ".." dir in relative path: ` + fn}
			return
		}
	}
	if fn == "" {
		fn, nameType = ".", dotdirName
	}
	if len(fn) >= MaxPath {
		w.list.IOError |= IOErrGeneral
		w.report(SeverityError, nil, "skipping overly long name: %s", arg)
		return
	}
	if !w.setRoot(dir) {
		if w.impliedDot < 0 {
			w.impliedDot = 0
		}
		return
	}
	var flags uint32
	if w.opts.Recurse {
		flags = FlagContentDir
	}
	if w.impliedDot < 0 {
		w.impliedDot = 1
		w.sendFileName("", ".", nil, nil, (flags|FlagImpliedDir)&^FlagContentDir, true)
	}

	follow := w.opts.CopyDirlinks || nameType != normalName
	st, ok := w.argStat(fn, nameType, follow)
	if !ok {
		return
	}
	isDir := st.Mode&ModeTypeMask == ModeDir
	if isDir && !w.opts.Dirs {
		w.report(SeverityInfo, nil, "skipping directory %s", fn)
		return
	}
	if w.opts.ImpliedDirs {
		if i := strings.LastIndexByte(fn, '/'); i > 0 {
			w.sendImpliedDirs(fn, i, flags)
		}
	}
	w.fsDev = st.Dev
	if w.opts.Recurse || (w.opts.Dirs && nameType != normalName) {
		dir, base := splitName(fn)
		if e := w.sendFileName(dir, base, &st, nil, FlagTopDir|FlagContentDir|flags, false); e != nil {
			w.sendIfDirectory(e, fn, nil, follow, flags)
		}
		return
	}
	dir, base := splitName(fn)
	w.sendFileName(dir, base, &st, nil, flags, false)
}

// sendImpliedDirs sends the directories leading to name[:limit] that the
// previous argument did not already send, unfiltered and following
// symlinks, flagged as implied. rsync: flist.c send_implied_dirs (without
// incremental recursion)
func (w *walker) sendImpliedDirs(name string, limit int, flags uint32) {
	flags = (flags | FlagImpliedDir) &^ (FlagTopDir | FlagContentDir)
	start := 0
	last := w.lastPath
	for tp := 0; ; tp++ {
		if tp == limit {
			if tp >= len(last) || last[tp] == '/' {
				return // all of them went with an earlier argument
			}
			break
		}
		if tp >= len(last) || last[tp] != name[tp] {
			break
		}
		if name[tp] == '/' {
			start = tp
		}
	}
	saveDirs := w.opts.Dirs
	w.opts.Dirs, w.noFilter = true, true
	for i := start + 1; i < limit; i++ {
		if name[i] == '/' {
			w.sendImplied(name[:i], flags)
		}
	}
	w.sendImplied(name[:limit], flags)
	w.opts.Dirs, w.noFilter = saveDirs, false
	w.lastPath = name[:limit]
}

// sendImplied sends one implied directory, following a symlink to it as
// rsync's copy_links does there.
func (w *walker) sendImplied(name string, flags uint32) {
	st, err := w.fs.Stat(w.path(name))
	if err != nil {
		w.statFailed(name, err)
		return
	}
	dir, base := splitName(name)
	w.sendFileName(dir, base, &st, nil, flags, true)
}
