package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
)

// fileRow is one row of a job's file as read, of either kind.
type fileRow struct {
	line     int
	cells    []string // nil for a row that is not valid CSV
	raw      []byte
	problems []rapport.FieldError
	moment   rapport.MomentRow
	customer rapport.CustomerRow
	promise  rapport.PromiseRow
	holding  rapport.HoldingRow
}

// fileReader reads a job's file, of either kind, a row at a time.
type fileReader struct {
	next   func() (*fileRow, error)
	offset func() (int64, int)
	resume func(io.Reader, int64, int)
	header []string
}

func adapt[V any](rd *csvio.Reader[V], set func(*fileRow, V)) *fileReader {
	return &fileReader{
		next: func() (*fileRow, error) {
			row, err := rd.Next()
			if err != nil {
				return nil, err
			}
			fr := &fileRow{line: row.Line, cells: row.Cells, raw: bytes.Clone(row.Raw), problems: slices.Clone(row.Problems)}
			set(fr, row.Value)
			return fr, nil
		},
		offset: rd.Offset, resume: rd.Resume, header: rd.Header(),
	}
}

// readerOf adapts a reader of one kind of row, or passes on its error.
func readerOf[V any](rd *csvio.Reader[V], err error) func(set func(*fileRow, V)) (*fileReader, error) {
	return func(set func(*fileRow, V)) (*fileReader, error) {
		if err != nil {
			return nil, err
		}
		return adapt(rd, set), nil
	}
}

// openReader reads the file's header and, for a job that stopped part way,
// moves on to the first row it had not finished.
func (r *jobRun) openReader() error {
	if _, err := r.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	opt := csvio.ReadOptions{Map: r.j.Map, DateFormat: r.j.DateFormat, Key: r.j.Key, Now: r.s.db.now()}
	if r.j.Delimiter != "" {
		opt.Delimiter = rune(r.j.Delimiter[0])
	}
	var err error
	switch r.j.Kind {
	case rapport.ImportMomentsKind:
		r.reader, err = readerOf(csvio.NewMomentReader(r.file, opt))(func(fr *fileRow, v rapport.MomentRow) { fr.moment = v })
	case rapport.ImportCustomersKind:
		r.reader, err = readerOf(csvio.NewCustomerReader(r.file, opt))(func(fr *fileRow, v rapport.CustomerRow) { fr.customer = v })
	case rapport.ImportPromisesKind:
		r.reader, err = readerOf(csvio.NewPromiseReader(r.file, opt))(func(fr *fileRow, v rapport.PromiseRow) { fr.promise = v })
	default:
		r.reader, err = readerOf(csvio.NewHoldingReader(r.file, opt))(func(fr *fileRow, v rapport.HoldingRow) { fr.holding = v })
	}
	if err != nil {
		return headerProblem(err)
	}
	if r.j.BytesRead > 0 {
		if _, err := r.file.Seek(r.j.BytesRead, io.SeekStart); err != nil {
			return err
		}
		r.reader.resume(r.file, r.j.BytesRead, r.j.nextLine)
	}
	return nil
}

// headerProblem says in one message what is wrong with a file's first row.
func headerProblem(err error) error {
	fields := rapport.ErrorFields(err)
	if len(fields) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(rapport.ErrorMessage(err))
	for _, f := range fields {
		fmt.Fprintf(&b, " %s: %s.", f.Field, f.Message)
	}
	return &rapport.Error{Code: rapport.ErrorCode(err), Message: b.String(), Fields: fields}
}

// pass reads the file from where the job is, a chunk at a time, storing
// each chunk's good rows (or, checking, only counting them) and writing
// its bad ones to the error report.
func (r *jobRun) pass(ctx context.Context, store bool) error {
	if err := r.openReader(); err != nil {
		return err
	}
	if r.j.reportBytes == 0 {
		if err := r.writeReport(append(slices.Clone(r.reader.header), csvio.ReportLine, csvio.ReportProblem, csvio.ReportRaw)); err != nil {
			return err
		}
	}
	size := r.s.files.ChunkRows
	if size <= 0 {
		size = rapport.ImportChunk
	}
	for {
		rows := make([]*fileRow, 0, size)
		var err error
		for len(rows) < size {
			var row *fileRow
			if row, err = r.reader.next(); err != nil {
				break
			}
			rows = append(rows, row)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if len(rows) > 0 {
			start := time.Now()
			if err := r.chunk(ctx, rows, store); err != nil {
				return err
			}
			if r.s.files.ChunkRows <= 0 {
				size = nextChunkSize(size, time.Since(start))
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

// A job's chunks grow while they go quickly and shrink when they do not.
// A larger chunk spreads its lookups, its progress write and its commit (a
// flush to disk) over more rows; but its transaction holds SQLite's one
// writer, and people recording moments meanwhile wait for it, so a chunk
// is kept near chunkTime. It is never smaller than rapport.ImportChunk: on
// a machine too busy for that to take under chunkTime, smaller chunks
// would only pay their fixed costs more often.
const (
	minChunkRows = rapport.ImportChunk
	maxChunkRows = 16_000
	chunkTime    = 500 * time.Millisecond
)

// nextChunkSize is the size of the chunk after one of size rows that took took.
func nextChunkSize(size int, took time.Duration) int {
	switch {
	case took < chunkTime/2:
		return min(size*2, maxChunkRows)
	case took > chunkTime:
		return max(size/2, minChunkRows)
	}
	return size
}

// chunk checks one chunk of rows against the store and, storing, stores
// the good ones, all in one transaction with the job's progress past them.
func (r *jobRun) chunk(ctx context.Context, rows []*fileRow, store bool) error {
	offset, line := r.reader.offset()
	var c chunkCounts
	before := r.j.reportBytes
	err := r.retryRaced(func() error {
		c = chunkCounts{read: len(rows), offset: offset, line: line}
		rep := newReport(nil)
		var clean []*fileRow
		for _, row := range rows {
			for _, p := range row.problems {
				rep.addField(p)
			}
			if len(row.problems) == 0 {
				clean = append(clean, row)
			}
		}
		check, write, err := r.prepare(ctx, clean, rep, &c, store)
		if err != nil {
			return err
		}
		save := func(tx *tx) error {
			if store {
				if err := write(tx); err != nil {
					return err
				}
			} else {
				c.stored = check
			}
			c.rejected = len(rep.bad)
			if err := r.reportRows(rows, rep); err != nil {
				return err
			}
			return r.commit(ctx, tx, c)
		}
		// A connection of its own, for PostgreSQL's COPY (copyNewMoments).
		if err := r.s.db.inConnTx(ctx, save); err != nil {
			r.j.reportBytes = before
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.j.BytesRead, r.j.nextLine = c.offset, c.line
	if r.progress != nil {
		if j, err := r.s.FindImport(ctx, r.j.ID); err == nil {
			r.progress(j)
		}
	}
	return nil
}

// retryRaced runs fn again when another writer stored one of its external
// ids between the look and the insert (PostgreSQL): the second look finds it.
func (r *jobRun) retryRaced(fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if !errors.Is(err, errRaced) || attempt == 3 {
			return err
		}
	}
}

// prepare resolves a chunk's clean rows against the store on the read
// pool, putting problems in rep and counting rows stored already; it
// returns how many rows would be stored, and the write that stores them.
func (r *jobRun) prepare(ctx context.Context, rows []*fileRow, rep *report, c *chunkCounts, store bool) (int, func(*tx) error, error) {
	switch r.j.Kind {
	case rapport.ImportMomentsKind:
		return r.prepareMoments(ctx, rows, rep, c, store)
	case rapport.ImportPromisesKind:
		return r.preparePromises(ctx, rows, rep, c, store)
	case rapport.ImportHoldingsKind:
		return r.prepareHoldings(ctx, rows, rep, c, store)
	}
	return r.prepareCustomers(ctx, rows, rep, c)
}

func (r *jobRun) prepareMoments(ctx context.Context, rows []*fileRow, rep *report, c *chunkCounts, store bool) (int, func(*tx) error, error) {
	file := &rapport.MomentFile{Rows: make([]rapport.MomentRow, len(rows))}
	for i, row := range rows {
		file.Rows[i] = row.moment
		file.Rows[i].Row = row.line
	}
	res := &rapport.ImportResult{}
	fresh, rowOf, err := r.s.momentsToRecord(ctx, file, rep, res, false)
	if err != nil {
		return 0, nil, err
	}
	c.skipped = res.Skipped
	var good []*rapport.Moment
	var goodRows []int
	for i, m := range fresh {
		if !rep.bad[rowOf[i]] {
			good, goodRows = append(good, m), append(goodRows, rowOf[i])
		}
	}
	// References are checked in the transaction that stores the rows,
	// locking their customers so that an erasure meanwhile is seen (as when
	// recording a batch); a check that stores nothing asks the read pool.
	checkRefs := func(tx *tx) error {
		refs, err := checkMomentRefs(ctx, tx, good, true)
		for _, fe := range refs {
			rep.add(goodRows[*fe.Index], fe.Field, "%s", fe.Message)
		}
		return err
	}
	if !store {
		if err := checkRefs(r.s.readTx()); err != nil {
			return 0, nil, err
		}
		n := 0
		for _, line := range goodRows {
			if !rep.bad[line] {
				n++
			}
		}
		return n, nil, nil
	}
	write := func(tx *tx) error {
		if err := checkRefs(tx); err != nil {
			return err
		}
		var ms []*rapport.Moment
		for i, m := range good {
			if !rep.bad[goodRows[i]] {
				copied := *m
				copied.Validate(tx.now, -1) // derives the outcome from the rating, as recording does
				ms = append(ms, &copied)
			}
		}
		if len(ms) == 0 {
			return nil
		}
		created, err := r.storeMoments(ctx, tx, ms)
		if err != nil {
			return err
		}
		for _, ok := range created {
			if ok {
				c.stored++
			} else {
				c.skipped++ // an earlier row of the file, or stored meanwhile
			}
		}
		return nil
	}
	return len(good), write, nil
}

// storeMoments stores a chunk's checked moments and what follows from
// them: with COPY on PostgreSQL, as a batch is stored otherwise.
func (r *jobRun) storeMoments(ctx context.Context, tx *tx, ms []*rapport.Moment) ([]bool, error) {
	// The customers are measured once the file is stored (measureStored).
	tx.measureLater = true
	if tx.conn != nil && tx.d.name == "postgres" {
		return copyNewMoments(ctx, tx, ms)
	}
	return r.s.moments.storeNew(ctx, tx, rapport.SourceImport, ms)
}

func (r *jobRun) prepareCustomers(ctx context.Context, rows []*fileRow, rep *report, c *chunkCounts) (int, func(*tx) error, error) {
	file := &rapport.CustomerFile{Rows: make([]rapport.CustomerRow, len(rows))}
	for i, row := range rows {
		file.Rows[i] = row.customer
		file.Rows[i].Row = row.line
	}
	res := &rapport.ImportResult{}
	fresh, inFile, err := r.s.customersToAdd(ctx, file, rep, res)
	if err != nil {
		return 0, nil, err
	}
	c.skipped = res.Skipped
	ordered := referrersFirst(rep, fresh, inFile)
	leaveOutReferred(rep, fresh, inFile)
	ordered = slices.DeleteFunc(ordered, func(row *rapport.CustomerRow) bool { return rep.bad[row.Row] })
	write := func(tx *tx) error {
		c.stored = len(ordered)
		return addCustomerRows(ctx, tx, ordered)
	}
	return len(ordered), write, nil
}

// reportRows writes a chunk's bad rows to the error report, each as the
// file had it with its line and problems, and makes them durable before
// the chunk commits.
func (r *jobRun) reportRows(rows []*fileRow, rep *report) error {
	if len(rep.bad) == 0 {
		return nil
	}
	why := map[int][]string{}
	for _, f := range rep.fields {
		what := f.Message
		if f.Field != "" {
			what = f.Field + ": " + what
		}
		why[*f.Index] = append(why[*f.Index], what)
	}
	for _, row := range rows {
		if !rep.bad[row.line] {
			continue
		}
		rec := row.cells
		raw := ""
		if rec == nil {
			rec, raw = make([]string, len(r.reader.header)), strings.TrimRight(string(row.raw), "\r\n")
		}
		rec = append(slices.Clone(rec), strconv.Itoa(row.line), strings.Join(why[row.line], "; "), raw)
		// The report is opened in spreadsheets: no cell of it runs.
		for i := range rec {
			rec[i] = csvio.Escape(rec[i])
		}
		if err := r.csv.Write(rec); err != nil {
			return err
		}
	}
	return r.flushReport()
}

// writeReport writes the report's header.
func (r *jobRun) writeReport(header []string) error {
	if err := r.csv.Write(header); err != nil {
		return err
	}
	return r.flushReport()
}

func (r *jobRun) flushReport() error {
	r.csv.Flush()
	if err := r.csv.Error(); err != nil {
		return fmt.Errorf("write the error report: %w", err)
	}
	if err := r.report.Sync(); err != nil {
		return fmt.Errorf("write the error report: %w", err)
	}
	at, err := r.report.Seek(0, io.SeekCurrent)
	r.j.reportBytes = at
	return err
}

// makeDue makes customers due to be measured: the sweep, or the import job
// that made them due once its file is stored, measures them.
func makeDue(ctx context.Context, tx *tx, ids []string) error {
	return inChunks(anys(ids), func(chunk []any) error {
		_, err := tx.exec(ctx, `UPDATE customer_measures SET due_at = 0 WHERE customer_id IN (`+placeholders(len(chunk))+`) AND due_at <> 0`, chunk...)
		return err
	})
}

// measureStored measures the customers a job's chunks made due, and any
// other customer due or never measured, as the sweep does (sweepQueries):
// once for the whole file rather than once a chunk. Measuring a customer
// reads their figures afresh, so once at the end comes to what measuring
// after every chunk would have (TestMomentRoutesAgree). A job taken up
// after its server stopped gets here too, so customers made due before the
// stop are measured as well. Each batch renews the job's lease, as a chunk
// does, since measuring a large firm takes a while.
func (r *jobRun) measureStored(ctx context.Context) error {
	for _, next := range sweepQueries(true, false) {
		seen := map[string]bool{}
		for {
			q, args := next(r.s.db.now())
			ids, err := queryIDs(ctx, r.s.db.reader(), q, append(args, insertChunk)...)
			if err != nil {
				return err
			}
			// One seen before could not be measured (deleted meanwhile).
			ids = slices.DeleteFunc(ids, func(id string) bool { return seen[id] })
			if len(ids) == 0 {
				break
			}
			for _, id := range ids {
				seen[id] = true
			}
			err = r.s.db.inTx(ctx, func(tx *tx) error {
				if _, err := refreshCustomers(ctx, tx, ids, true); err != nil {
					return fmt.Errorf("measure the customers of the moments stored: %w", err)
				}
				return r.renew(ctx, tx)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}
