package options

// maxBatchName bounds a batch file's name. rsync: options.c MAX_BATCH_NAME_LEN
const maxBatchName = 256

// applyBatch performs --read-batch, --write-batch and --only-write-batch.
// rsync: options.c parse_arguments (OPT_READ_BATCH, OPT_WRITE_BATCH,
// OPT_ONLY_WRITE_BATCH)
func (p *parser) applyBatch(s *optSpec, val string) {
	o := p.o
	o.BatchName = val
	switch s.id {
	case optReadBatch:
		o.ReadBatch = true
	case optWriteBatch:
		o.WriteBatch = 1
	case optOnlyWriteBatch:
		o.WriteBatch = -1
	}
}

// checkBatch settles the batch options once all are parsed: a server
// ignores --write-batch and --read-batch (old clients sent them) but keeps
// --only-write-batch, which tells its receiver to send sums for data it
// will not get; a dry run writes no batch. rsync: options.c
// parse_arguments
func (p *parser) checkBatch() error {
	o := p.o
	if o.WriteBatch != 0 && o.ReadBatch {
		return &UsageError{Reason: "--write-batch and --read-batch can not be used together", Server: o.Server}
	}
	if o.WriteBatch > 0 || o.ReadBatch {
		if o.Server {
			o.ReadBatch, o.WriteBatch, o.BatchName = false, 0, ""
		} else if o.DryRun {
			o.WriteBatch = 0
		}
	} else if o.WriteBatch < 0 && o.DryRun {
		o.WriteBatch = 0
	}
	if o.ReadBatch && o.FilesFrom != "" {
		return &UsageError{Reason: "--read-batch cannot be used with --files-from", Server: o.Server}
	}
	if o.ReadBatch && o.RemoveSource != 0 {
		which := "source"
		if o.RemoveSource == RemoveSentFiles {
			which = "sent"
		}
		return &UsageError{Reason: "--read-batch cannot be used with --remove-" + which + "-files", Server: o.Server}
	}
	if o.WriteBatch != 0 {
		o.Argv = p.args
	}
	if len(o.BatchName) > maxBatchName {
		return &UsageError{Reason: "the batch-file name must be 256 characters or less.", Server: o.Server}
	}
	return nil
}
