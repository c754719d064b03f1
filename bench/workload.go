package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// sizes holds the workload dimensions; the -quick preset shrinks them for a
// smoke test.
type sizes struct {
	TreeFiles  int   // T1/T2/T6: files in the source-checkout-like tree
	TreeBytes  int64 // T1/T2/T6: total bytes in that tree
	SmallFiles int   // T3: files of 0–8 KiB
	BigBytes   int64 // T4/T5: the one big file
	Edits      int   // T5: scattered small edits at the destination
	EmptyFiles int   // T7: empty files
}

var (
	fullSizes = sizes{
		TreeFiles: 15000, TreeBytes: 270 << 20,
		SmallFiles: 100000,
		BigBytes:   1 << 30, Edits: 200,
		EmptyFiles: 1000000,
	}
	quickSizes = sizes{
		TreeFiles: 1500, TreeBytes: 27 << 20,
		SmallFiles: 5000,
		BigBytes:   64 << 20, Edits: 200,
		EmptyFiles: 20000,
	}
)

// fixedTime is the modification time given to every generated source file, so
// that trees generated on different machines are identical.
var fixedTime = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// reset says how a destination is prepared before each run of a workload.
type reset int

const (
	resetFresh     reset = iota // an empty destination directory
	resetUnchanged              // a destination already synced with the source
	resetEdited                 // a fresh copy of a pre-made edited destination (T5)
)

// workload is one row family of the report: a source, the options added to
// -a, and how the destination looks before each run.
type workload struct {
	ID    string
	Title string
	Src   string   // source key: tree, small, big, empty
	Args  []string // options after -a
	Reset reset
	Runs  int  // runs per tool; 0 means the -runs default
	Cp    bool // also time cp (local transport only)
	// PerFile reports peak RSS divided by the number of files (T7).
	PerFile bool
}

// allWorkloads lists the workloads in report order. T3 is split into
// its fresh and unchanged halves.
var allWorkloads = []workload{
	{ID: "T1", Title: "fresh copy, source-checkout-like tree", Src: "tree", Reset: resetFresh},
	{ID: "T2", Title: "same tree, nothing changed (quick check)", Src: "tree", Reset: resetUnchanged},
	{ID: "T3f", Title: "small files (0–8 KiB), fresh", Src: "small", Reset: resetFresh},
	{ID: "T3u", Title: "small files (0–8 KiB), unchanged", Src: "small", Reset: resetUnchanged},
	{ID: "T4", Title: "one big file, fresh copy", Src: "big", Reset: resetFresh, Cp: true},
	{ID: "T5", Title: "big file, scattered small edits at the destination (delta)", Src: "big", Args: []string{"--no-W"}, Reset: resetEdited},
	{ID: "T6", Title: "--checksum over the tree, nothing changed", Src: "tree", Args: []string{"--checksum"}, Reset: resetUnchanged},
	// T7 is a dry run: it builds, sends and walks the whole file list (the
	// point of T7) without creating a million files, which would take minutes
	// per run and measure the filesystem rather than the tools.
	{ID: "T7", Title: "empty files, dry run into an empty directory: file-list memory", Src: "empty", Args: []string{"-n"}, Reset: resetFresh, PerFile: true},
}

// extraWorkloads run only when named: T8 measures a rate limit, not
// speed, and takes 20 s a run by design.
var extraWorkloads = []workload{
	{ID: "T8", Title: "20 MiB file paced by --bwlimit=1M (rsync's sleep_for_bwlimit)", Src: "bw", Args: []string{"--bwlimit=1M"}, Reset: resetFresh},
}

// bwBytes is T8's file: 20 MiB at 1 MiB/s, twenty seconds a run.
const bwBytes = 20 << 20

// selectWorkloads resolves a comma-separated list of IDs; "T3" names both
// halves of T3.
func selectWorkloads(list string) ([]workload, error) {
	if list == "" || list == "all" {
		return allWorkloads, nil
	}
	want := map[string]bool{}
	for _, id := range strings.Split(list, ",") {
		id = strings.ToUpper(strings.TrimSpace(id))
		if id == "T3" {
			want["T3F"], want["T3U"] = true, true
			continue
		}
		want[id] = true
	}
	var out []workload
	for _, w := range append(allWorkloads[:len(allWorkloads):len(allWorkloads)], extraWorkloads...) {
		if want[strings.ToUpper(w.ID)] {
			out = append(out, w)
			delete(want, strings.ToUpper(w.ID))
		}
	}
	if len(want) > 0 {
		var bad []string
		for id := range want {
			bad = append(bad, id)
		}
		return nil, fmt.Errorf("unknown workloads: %s", strings.Join(bad, ","))
	}
	return out, nil
}

// fileSpec is one file to generate: a path relative to the source root, its
// size and the seed of its content.
type fileSpec struct {
	Rel  string
	Size int64
	Seed uint64
}

// treeSpecs lays out a tree shaped like a source checkout: nested
// directories of about 25 files, sizes log-normally distributed (median a
// few KiB, a long tail of large files) and scaled so they add up to total.
func treeSpecs(files int, total int64, seed uint64) []fileSpec {
	r := rand.New(rand.NewPCG(seed, 1))
	raw := make([]float64, files)
	var sum float64
	for i := range raw {
		raw[i] = math.Exp(8.6 + 1.5*r.NormFloat64())
		sum += raw[i]
	}
	scale := float64(total) / sum
	specs := make([]fileSpec, files)
	exts := []string{".go", ".c", ".h", ".txt", ".md", ".json", ".s", ".png"}
	perDir := 25
	for i := range specs {
		d := i / perDir
		// Three levels: top/mid/leaf, so names share long directory prefixes.
		dir := fmt.Sprintf("pkg%02d/sub%02d/dir%03d", d%40, (d/40)%20, d)
		size := int64(raw[i] * scale)
		if size > 32<<20 {
			size = 32 << 20
		}
		specs[i] = fileSpec{
			Rel:  filepath.Join(dir, fmt.Sprintf("file%05d%s", i, exts[r.IntN(len(exts))])),
			Size: size,
			Seed: seed ^ uint64(i)*0x9e3779b97f4a7c15,
		}
	}
	return specs
}

// smallSpecs lays out n files of 0–8 KiB, 100 to a directory.
func smallSpecs(n int, seed uint64) []fileSpec {
	r := rand.New(rand.NewPCG(seed, 3))
	specs := make([]fileSpec, n)
	for i := range specs {
		specs[i] = fileSpec{
			Rel:  filepath.Join(fmt.Sprintf("d%04d", i/100), fmt.Sprintf("f%06d", i)),
			Size: int64(r.IntN(8193)),
			Seed: seed ^ uint64(i)*0x9e3779b97f4a7c15,
		}
	}
	return specs
}

// emptySpecs lays out n empty files, 1000 to a directory.
func emptySpecs(n int) []fileSpec {
	specs := make([]fileSpec, n)
	for i := range specs {
		specs[i] = fileSpec{Rel: filepath.Join(fmt.Sprintf("d%04d", i/1000), fmt.Sprintf("e%07d", i))}
	}
	return specs
}

// writeSpecs creates every file under root with parallel writers, then sets
// files and directories to fixedTime when setTimes is true.
func writeSpecs(root string, specs []fileSpec, setTimes bool) error {
	dirs := map[string]bool{}
	for _, s := range specs {
		dirs[filepath.Dir(s.Rel)] = true
	}
	for d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	err := parallel(len(specs), func(i int) error {
		s := specs[i]
		p := filepath.Join(root, s.Rel)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if s.Size > 0 {
			if err := fillRandom(f, 0, s.Size, s.Seed); err != nil {
				f.Close()
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
		if setTimes {
			return os.Chtimes(p, fixedTime, fixedTime)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if setTimes {
		// Deepest directories first would not matter: a directory's mtime
		// changes only when its entries change, and all files exist now.
		for d := range dirs {
			for ; d != "." && d != "/"; d = filepath.Dir(d) {
				if err := os.Chtimes(filepath.Join(root, d), fixedTime, fixedTime); err != nil {
					return err
				}
			}
		}
		return os.Chtimes(root, fixedTime, fixedTime)
	}
	return nil
}

// fillRandom writes size bytes of ChaCha8 output seeded by seed at offset off.
func fillRandom(f *os.File, off, size int64, seed uint64) error {
	var key [32]byte
	for i := range 4 {
		v := seed + uint64(i)*0x9e3779b97f4a7c15
		for j := range 8 {
			key[i*8+j] = byte(v >> (8 * j))
		}
	}
	c := rand.NewChaCha8(key)
	buf := make([]byte, min(size, 1<<20))
	for size > 0 {
		n := min(size, int64(len(buf)))
		c.Read(buf[:n])
		if _, err := f.WriteAt(buf[:n], off); err != nil {
			return err
		}
		off += n
		size -= n
	}
	return nil
}

// writeBig creates one file of size bytes from parallel ChaCha8 streams, one
// per 64 MiB chunk.
func writeBig(path string, size int64, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	const chunk = 64 << 20
	n := int((size + chunk - 1) / chunk)
	err = parallel(n, func(i int) error {
		off := int64(i) * chunk
		return fillRandom(f, off, min(chunk, size-off), seed+uint64(i))
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Chtimes(path, fixedTime, fixedTime)
}

// applyEdits overwrites n scattered runs of 1–64 bytes in path with other
// bytes, keeping its size, and gives it a different mtime so the quick check
// selects it.
func applyEdits(path string, n int, seed uint64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r := rand.New(rand.NewPCG(seed, 5))
	buf := make([]byte, 64)
	for range n {
		l := 1 + r.IntN(64)
		off := r.Int64N(st.Size() - int64(l))
		for j := range buf[:l] {
			buf[j] = byte(r.Uint32())
		}
		if _, err := f.WriteAt(buf[:l], off); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	t := fixedTime.Add(-24 * time.Hour)
	return os.Chtimes(path, t, t)
}
