package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/importer"
)

// importCmds import and export users (issue 16, docs/MIGRATION.md).
var importCmds = []adminCmd{
	{group: "users", verb: "import", args: "<file>", min: 1, max: 1,
		flags: []string{"format", "source", "dry-run", "resume", "checkpoint", "hash-key", "salt-separator", "rounds", "mem-cost"},
		help:  "import users from an export file of authpool, authing, auth0, firebase, keycloak, supabase or ory", run: usersImport},
	{group: "users", verb: "export", flags: []string{"search", "include-hashes", "o"},
		help: "export users as JSON lines (hashes only with -include-hashes)", run: usersExport},
}

// importChunk is how many records one request carries: a request is the
// unit the checkpoint advances by.
const importChunk = 2000

// checkpoint is what an interrupted import leaves beside its file: the
// number of the last record whose whole request was answered. --resume
// skips the records up to it; the records of the request in flight were
// perhaps written and are sent again, which updates them (idempotency).
type checkpoint struct {
	Format string `json:"format"`
	Source string `json:"source"`
	Pool   string `json:"pool"`
	Record int    `json:"record"`
}

// importLine is one line of the --json report.
type importLine struct {
	Record int `json:"record"`
	client.ImportReport
}

func usersImport(ctx context.Context, e *adminEnv, args []string) error {
	f := e.flags
	if f.format == "" {
		return errors.New("-format is required")
	}
	source := f.source
	if source == "" {
		source = f.format
	}
	file, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer file.Close()
	rd, err := importer.NewReader(f.format, file, importer.Options{Firebase: importer.FirebaseConfig{
		SignerKey: f.hashKey, SaltSeparator: f.saltSeparator, Rounds: f.rounds, MemCost: f.memCost,
	}})
	if err != nil {
		return err
	}
	cpPath := f.checkpoint
	if cpPath == "" {
		cpPath = args[0] + ".checkpoint"
	}
	skip := 0
	if b, err := os.ReadFile(cpPath); err == nil {
		var cp checkpoint
		if err := json.Unmarshal(b, &cp); err != nil {
			return fmt.Errorf("checkpoint %s: %w", cpPath, err)
		}
		if !f.resume && !f.dryRun {
			return fmt.Errorf("an interrupted import left %s (up to record %d): run again with -resume, or delete it to start over", cpPath, cp.Record)
		}
		if f.resume {
			if cp.Format != f.format || cp.Source != source || cp.Pool != e.pool {
				return fmt.Errorf("checkpoint %s is of another import (format %s, source %s, pool %s)", cpPath, cp.Format, cp.Source, cp.Pool)
			}
			skip = cp.Record
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	} else if f.resume {
		return fmt.Errorf("-resume: no checkpoint %s", cpPath)
	}

	out := bufio.NewWriter(e.out)
	defer out.Flush()
	enc := json.NewEncoder(out)
	var total client.ImportSummary
	total.DryRun = f.dryRun
	report := func(n int, r client.ImportReport) {
		switch r.Status {
		case api.ImportStatusImported:
			total.Imported++
		case api.ImportStatusUpdated:
			total.Updated++
		default:
			total.Refused++
		}
		if e.json {
			_ = enc.Encode(importLine{Record: n, ImportReport: r})
		} else if r.Status == api.ImportStatusRefused {
			fmt.Fprintf(out, "record %d: refused: %s (%s)\n", n, r.Message, r.Reason)
		}
	}
	start, lastShown := time.Now(), time.Now()
	done := 0
	progress := func(final bool) {
		if !final && time.Since(lastShown) < time.Second {
			return
		}
		lastShown = time.Now()
		secs := time.Since(start).Seconds()
		fmt.Fprintf(e.errOut, "import: %d records done (%d imported, %d updated, %d refused), %.0f/s\n",
			done, total.Imported, total.Updated, total.Refused, float64(done)/max(secs, 0.001))
	}
	var recs []client.UserRecord
	var nums []int
	flush := func() error {
		if len(recs) == 0 {
			return nil
		}
		i := 0
		sum, err := e.mc.ImportRecords(ctx, e.pool, recs, client.ImportOptions{Source: source, DryRun: f.dryRun}, func(r client.ImportReport) error {
			if r.Line < 1 || r.Line > len(nums) {
				return fmt.Errorf("the server reported line %d of %d", r.Line, len(nums))
			}
			report(nums[r.Line-1], r)
			i++
			return nil
		})
		if err != nil {
			return err
		}
		if sum.Error != nil {
			return fmt.Errorf("the server stopped the import: %s (code %d)", sum.Error.Message, sum.Error.Code)
		}
		if i != len(recs) {
			return fmt.Errorf("the server reported %d of %d records", i, len(recs))
		}
		done += len(recs)
		if !f.dryRun {
			b, _ := json.Marshal(checkpoint{Format: f.format, Source: source, Pool: e.pool, Record: nums[len(nums)-1]})
			if err := writeFileAtomic(cpPath, b); err != nil {
				return err
			}
		}
		recs, nums = recs[:0], nums[:0]
		progress(false)
		return nil
	}
	for {
		n, rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		var re *importer.RecordError
		if errors.As(err, &re) {
			if n > skip {
				report(n, client.ImportReport{Status: api.ImportStatusRefused, Reason: re.Reason, Message: re.Msg})
			}
			continue
		}
		if err != nil {
			progress(true)
			return fmt.Errorf("%s: %w", args[0], err)
		}
		if n <= skip {
			continue
		}
		recs, nums = append(recs, *rec), append(nums, n)
		if len(recs) == importChunk {
			if err := flush(); err != nil {
				progress(true)
				return err
			}
		}
	}
	if err := flush(); err != nil {
		progress(true)
		return err
	}
	progress(true)
	if !f.dryRun {
		if err := os.Remove(cpPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if e.json {
		return enc.Encode(map[string]any{"summary": total})
	}
	verb := "import"
	if f.dryRun {
		verb = "dry run"
	}
	fmt.Fprintf(out, "%s: %d imported, %d updated, %d refused", verb, total.Imported, total.Updated, total.Refused)
	if skip > 0 {
		fmt.Fprintf(out, " (resumed after record %d)", skip)
	}
	fmt.Fprintln(out)
	return nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func usersExport(ctx context.Context, e *adminEnv, _ []string) error {
	f := e.flags
	var w io.Writer = e.out
	var file *os.File
	if f.output != "" {
		var err error
		// Written beside and renamed at the end: a failed export never
		// leaves a file that looks whole.
		if file, err = os.OpenFile(f.output+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600); err != nil {
			return err
		}
		defer os.Remove(f.output + ".tmp")
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	n := 0
	err := e.mc.ExportUsers(ctx, e.pool, client.ExportOptions{Search: f.search, IncludeHashes: f.includeHashes}, func(r client.UserRecord) error {
		n++
		return enc.Encode(&r)
	})
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return err
		}
		if err := os.Rename(f.output+".tmp", f.output); err != nil {
			return err
		}
		fmt.Fprintf(e.errOut, "export: %d users written to %s\n", n, f.output)
	}
	return nil
}
