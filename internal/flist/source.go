package flist

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gorsync/gorsync/internal/fsys"
	"golang.org/x/sys/unix"
)

// The sender opens the files of its list long after the walk described
// them, and the walk's directories are closed by then. Each file is found
// again the way the walk found it: the directories the user named (an
// argument's root, and under --relative its path and implied directories)
// by path, following their symbolic links as the walk did, and everything
// the walk found beneath them one component at a time without following
// any link (fsys.OpenNoLinks). A directory swapped for a symbolic link
// since the walk then makes the file's open fail (ELOOP, or ENOENT: rsync's
// "file has vanished"), and no data from outside the tree can be read
// through it. rsync opens the file beneath the transfer root, refusing a
// link that leaves it. rsync: sender.c send_files (sender_open_confined)

// anchorKey names a directory, relative to a root, that the walk reached
// by the user's names.
type anchorKey struct {
	root int32
	name string
}

// anchorID is the identity of an anchor as the walk also listed it, as a
// directory entry that another argument's recursion reached without links
// (known is false when it never did). An anchor is opened again by its
// path, following links, and must then still be that directory: with
// several arguments (or -R's, or --files-from's names) one argument's
// anchor may lie above what another found through held directories, and
// a symbolic link swapped in for it since would lead that argument's files
// elsewhere.
type anchorID struct {
	dev, ino uint64
	known    bool
}

// anchor records, for the sender, the directories that the walk reaches
// for the argument fn by following the names given: fn's parent and, when
// the walk follows fn itself, fn. A root itself is always one.
func (w *walker) anchor(fn string, followed bool) {
	add := func(name string) {
		name = strings.TrimSuffix(name, "/.")
		if name == "" || name == "." {
			return // the root itself
		}
		if w.list.anchors == nil {
			w.list.anchors = make(map[anchorKey]anchorID)
		}
		key := anchorKey{w.root, name}
		if _, ok := w.list.anchors[key]; !ok {
			w.list.anchors[key] = w.dirIDs[key] // as listed, if it was
		}
	}
	add(parentName(fn))
	if followed {
		add(fn)
	}
}

// parentName is the directory part of a name: "" for a bare name, "/" for
// one directly beneath it.
func parentName(name string) string {
	switch i := strings.LastIndexByte(name, '/'); {
	case i < 0:
		return ""
	case i == 0:
		return "/"
	default:
		return name[:i]
	}
}

// Source opens, stats and removes the files of a list built by Build on
// the sender's disk, as described above. It keeps the directory of the
// last file it reached open, for the next file in the same directory;
// it is safe for concurrent use.
type Source struct {
	roots   []string
	anchors map[anchorKey]anchorID

	mu     sync.Mutex
	anchor heldFD // the last anchor directory opened
	dir    heldFD // the last file's directory
}

// heldFD is an open directory and the name it was opened for; fd < 0
// when empty.
type heldFD struct {
	key anchorKey
	fd  int
}

func (h *heldFD) set(key anchorKey, fd int) {
	h.close()
	h.key, h.fd = key, fd
}

func (h *heldFD) close() {
	if h.fd >= 0 {
		unix.Close(h.fd)
		h.fd = -1
	}
}

// NewSource returns the Source of l's files; Close it when done.
func NewSource(l *List) *Source {
	return &Source{roots: l.Roots, anchors: l.anchors, anchor: heldFD{fd: -1}, dir: heldFD{fd: -1}}
}

// Close releases the directories the Source holds.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.anchor.close()
	s.dir.close()
	return nil
}

// Open opens e's file for reading, never through a symbolic link.
func (s *Source) Open(e *Entry) (*os.File, error) {
	var fd int
	name, err := s.at(e, "open", func(dfd int, leaf string) (err error) {
		fd, err = openat(dfd, leaf, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOCTTY)
		return err
	})
	if err != nil {
		return nil, err
	}
	// os.NewFile on a blocking descriptor: os.OpenFile would also probe
	// the runtime's poller, four fcntl and an epoll_ctl per regular file,
	// which can never be polled.
	return os.NewFile(uintptr(fd), name), nil
}

// Lstat describes e's file without following it.
func (s *Source) Lstat(e *Entry) (Stat, error) {
	var st unix.Stat_t
	_, err := s.at(e, "lstat", func(dfd int, leaf string) error {
		return unix.Fstatat(dfd, leaf, &st, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return Stat{}, err
	}
	return fsys.StatFromUnix(&st), nil
}

// Remove unlinks e's file (--remove-source-files).
func (s *Source) Remove(e *Entry) error {
	_, err := s.at(e, "remove", func(dfd int, leaf string) error {
		return unix.Unlinkat(dfd, leaf, 0)
	})
	return err
}

// at runs op on e's file as the last component leaf in its directory dfd,
// and returns the file's path for messages; errors are *os.PathError with
// that path.
func (s *Source) at(e *Entry, what string, op func(dfd int, leaf string) error) (string, error) {
	name := e.Name()
	root := ""
	if e.Root >= 0 && int(e.Root) < len(s.roots) {
		root = s.roots[e.Root]
	}
	path := joinRoot(root, name)
	dir := parentName(name)
	leaf := name[len(dir):]
	leaf = strings.TrimPrefix(leaf, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	dfd, err := s.dirFD(e.Root, root, dir)
	if err == nil {
		err = op(dfd, leaf)
	}
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		// Messages name the file by its absolute path, as rsync's
		// full_fname does.
		if abs, aerr := filepath.Abs(path); aerr == nil {
			path = abs
		}
		return path, &os.PathError{Op: what, Path: path, Err: err}
	}
	return path, nil
}

// dirFD returns the directory dir (relative to root, the list's root
// number ri) open, from the cache or resolved from its anchor. The
// descriptor stays the Source's. Called with s.mu held.
func (s *Source) dirFD(ri int32, root, dir string) (int, error) {
	key := anchorKey{ri, dir}
	if s.dir.fd >= 0 && s.dir.key == key {
		return s.dir.fd, nil
	}
	a := s.anchorOf(ri, dir)
	akey := anchorKey{ri, a}
	if s.anchor.fd < 0 || s.anchor.key != akey {
		// The user's names: followed, as the walk followed them.
		fd, err := openat(unix.AT_FDCWD, joinRoot(root, a), unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return -1, err
		}
		if id := s.anchors[akey]; id.known {
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil || st.Dev != id.dev || st.Ino != id.ino {
				// Not the directory the walk listed: its files are
				// gone from where they were found.
				unix.Close(fd)
				return -1, unix.ENOENT
			}
		}
		s.anchor.set(akey, fd)
	}
	rest := strings.TrimPrefix(dir[len(a):], "/")
	if rest == "" {
		rest = "."
	}
	fd, err := fsys.OpenNoLinks(s.anchor.fd, rest, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return -1, err
	}
	s.dir.set(key, fd)
	return fd, nil
}

// anchorOf returns the deepest anchor at or above dir: an anchor the walk
// recorded, else the root ("") or, for an absolute name, "/".
func (s *Source) anchorOf(ri int32, dir string) string {
	for p := dir; p != "" && p != "/"; p = parentName(p) {
		if _, ok := s.anchors[anchorKey{ri, p}]; ok {
			return p
		}
	}
	if strings.HasPrefix(dir, "/") {
		return "/"
	}
	return ""
}

// joinRoot is where name (relative to root, or absolute) is on disk.
func joinRoot(root, name string) string {
	switch {
	case strings.HasPrefix(name, "/"):
		return name
	case name == "" || name == ".":
		if root == "" {
			return "."
		}
		return root
	case root == "":
		return name
	case strings.HasSuffix(root, "/"):
		return root + name
	}
	return root + "/" + name
}

// listedDir records the identity of a directory entry the walk made, for
// the anchors (see anchorID): an anchor already recorded takes it, and it
// is kept for an argument still to come, when there is more than one.
func (w *walker) listedDir(name string, st *Stat) {
	if !w.multiArg {
		return
	}
	name = strings.TrimSuffix(name, "/.")
	if name == "" || name == "." {
		return
	}
	key := anchorKey{w.root, name}
	id := anchorID{dev: st.Dev, ino: st.Ino, known: true}
	if a, ok := w.list.anchors[key]; ok {
		if !a.known {
			w.list.anchors[key] = id
		}
		return
	}
	if !w.collecting {
		return // no argument is left to anchor it
	}
	if w.dirIDs == nil {
		w.dirIDs = make(map[anchorKey]anchorID)
	}
	if _, ok := w.dirIDs[key]; !ok {
		w.dirIDs[key] = id
	}
}
