package port

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// RowError is why one row of a file was refused: its row (the sheet's row
// number, or the position in the JSON rows from 1), the field (the row's
// own column names: inbound[0].trace_code, outbound[1].quantity …) and the
// reason in English and Chinese.
type RowError struct {
	Row       int    `json:"row"`
	Field     string `json:"field"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageZH string `json:"message_zh"`
}

// Job is one imported file: what it was, how far it got, what it refused.
type Job struct {
	ID         int64      `json:"job"`
	Kind       string     `json:"kind"`
	Mode       string     `json:"mode"`
	Format     string     `json:"format"`
	FileName   string     `json:"file_name"`
	SHA256     string     `json:"file_sha256"`
	Status     string     `json:"status" doc:"running | done | failed (all_or_nothing with refused rows, or an error: nothing of it was written)"`
	Rows       int        `json:"rows"`
	Processed  int        `json:"processed" doc:"rows looked at so far"`
	Accepted   int        `json:"accepted" doc:"rows written"`
	Unchanged  int        `json:"unchanged" doc:"rows identical to what is recorded (nothing written)"`
	Rejected   int        `json:"rejected" doc:"rows refused"`
	Errors     []RowError `json:"errors" doc:"the refused rows' reasons (the first 1000)"`
	Message    string     `json:"message,omitempty" doc:"why the file as a whole failed"`
	MessageZH  string     `json:"message_zh,omitempty"`
	ActorName  string     `json:"actor_name"`
	RegionCode string     `json:"region_code"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	userID     int64
}

// Running reports whether the job is still being processed.
func (j Job) Running() bool { return j.Status == JobRunning }

// Percent is how far the job got (0–100).
func (j Job) Percent() int {
	if j.Rows == 0 || !j.Running() {
		return 100
	}
	return j.Processed * 100 / j.Rows
}

// progress is a running job's live counts in this process (an
// all_or_nothing job writes them only when its transaction ends).
type progress struct {
	processed, accepted, unchanged, rejected atomic.Int64
}

const jobColumns = `id, COALESCE(user_id, 0), actor_name, region_code, kind, mode, format, file_name, file_sha256, status, total_rows, processed,
	accepted, unchanged, rejected, errors, message_zh, message_en, created_at, updated_at, finished_at`

func scanJob(r platform.Scanner) (Job, error) {
	var j Job
	var errs string
	var fin sql.NullTime
	err := r.Scan(&j.ID, &j.userID, &j.ActorName, &j.RegionCode, &j.Kind, &j.Mode, &j.Format, &j.FileName, &j.SHA256, &j.Status, &j.Rows,
		&j.Processed, &j.Accepted, &j.Unchanged, &j.Rejected, &errs, &j.MessageZH, &j.Message, &j.CreatedAt, &j.UpdatedAt, &fin)
	if fin.Valid {
		j.FinishedAt = &fin.Time
	}
	_ = json.Unmarshal([]byte(errs), &j.Errors)
	if j.Errors == nil {
		j.Errors = []RowError{}
	}
	return j, err
}

// createJob records a new running job (the request's first write: an
// Idempotency-Key is claimed with it). Job rows are the import's
// bookkeeping, not records: they emit no event, so re-sending a file
// that changes nothing leaves the outbox as it was.
func (s *Service) createJob(ctx context.Context, actor *auth.Actor, j *Job) error {
	return s.db.InTx(ctx, func(tx *platform.Tx) error {
		now := tx.Now()
		j.CreatedAt, j.UpdatedAt, j.Status, j.Errors = now, now, JobRunning, []RowError{}
		j.ActorName, j.RegionCode, j.userID = actor.Username, actor.Region, actor.UserID
		if j.RegionCode == "" {
			j.RegionCode = "000000"
		}
		return tx.QueryRow(ctx, `INSERT INTO import_jobs (user_id, actor_name, region_code, kind, mode, format, file_name, file_sha256, status,
			total_rows, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
			platform.NullInt(j.userID), j.ActorName, j.RegionCode, j.Kind, j.Mode, j.Format, j.FileName, j.SHA256, j.Status, j.Rows, now).Scan(&j.ID)
	})
}

// saveJob writes a job's counts, status and errors (inside tx).
func saveJob(ctx context.Context, tx *platform.Tx, j *Job) error {
	j.UpdatedAt = tx.Now()
	if !j.Running() && j.FinishedAt == nil {
		at := j.UpdatedAt
		j.FinishedAt = &at
	}
	sort.SliceStable(j.Errors, func(a, b int) bool { return j.Errors[a].Row < j.Errors[b].Row })
	errs, err := json.Marshal(j.Errors)
	if err != nil {
		return err
	}
	var fin any
	if j.FinishedAt != nil {
		fin = *j.FinishedAt
	}
	// only a running job moves (its runner is the one writer; a job that
	// ended is never rewritten)
	res, err := tx.Exec(ctx, `UPDATE import_jobs SET status = $2, processed = $3, accepted = $4, unchanged = $5, rejected = $6, errors = $7,
		message_zh = $8, message_en = $9, updated_at = $10, finished_at = $11 WHERE id = $1 AND status = $12`,
		j.ID, j.Status, j.Processed, j.Accepted, j.Unchanged, j.Rejected, string(errs), j.MessageZH, j.Message, j.UpdatedAt, fin, JobRunning)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return platform.Conflict("导入任务已结束", "the import job has already ended").With("job", j.ID)
	}
	return nil
}

// Job returns an import job: to its importer, or to an actor who may
// import everywhere (an administrator); anyone else gets 404.
func (s *Service) Job(ctx context.Context, actor *auth.Actor, id int64) (Job, error) {
	if err := auth.Authorize(actor, auth.ActExchangeImport, auth.Resource{}); err != nil {
		return Job{}, err
	}
	j, err := scanJob(s.db.QueryRow(ctx, `SELECT `+jobColumns+` FROM import_jobs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, errJobNotFound
	}
	if err != nil {
		return Job{}, err
	}
	if auth.ListScope(actor, auth.ActExchangeImport).Kind != auth.ScopeAll && (j.userID == 0 || j.userID != actor.UserID) {
		return Job{}, errJobNotFound
	}
	return s.live(j), nil
}

var errJobNotFound = platform.NotFound("导入任务不存在，或不是您提交的", "no such import job, or not one you submitted")

// Jobs lists import jobs, newest first: everyone's for an actor who may
// import everywhere, else the actor's own.
func (s *Service) Jobs(ctx context.Context, actor *auth.Actor, limit, offset int) ([]Job, error) {
	sc := auth.ListScope(actor, auth.ActExchangeImport)
	if err := sc.Err(actor, auth.ActExchangeImport); err != nil {
		return nil, err
	}
	w := auth.NewWhere()
	if sc.Kind != auth.ScopeAll {
		w.Add("user_id = " + w.Arg(actor.UserID))
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	rows, err := s.db.Query(ctx, `SELECT `+jobColumns+` FROM import_jobs`+w.SQL()+` ORDER BY id DESC LIMIT `+w.Arg(limit)+` OFFSET `+w.Arg(max(offset, 0)), w.Args()...)
	list, err := platform.Collect(rows, err, scanJob)
	for i := range list {
		list[i] = s.live(list[i])
	}
	return list, err
}

// live overlays the counts of a job this process is running.
func (s *Service) live(j Job) Job {
	if !j.Running() {
		return j
	}
	s.mu.Lock()
	p := s.running[j.ID]
	s.mu.Unlock()
	if p == nil {
		return j
	}
	j.Processed, j.Accepted, j.Unchanged, j.Rejected = int(p.processed.Load()), int(p.accepted.Load()), int(p.unchanged.Load()), int(p.rejected.Load())
	return j
}

func (s *Service) track(id int64) *progress {
	p := &progress{}
	s.mu.Lock()
	s.running[id] = p
	s.mu.Unlock()
	return p
}

func (s *Service) untrack(id int64) {
	s.mu.Lock()
	delete(s.running, id)
	s.mu.Unlock()
}

// failJob ends a job as failed with a reason (in its own transaction, on a
// context that outlives a cancelled one).
func (s *Service) failJob(ctx context.Context, j *Job, zh, en string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	j.Status, j.MessageZH, j.Message = JobFailed, zh, en
	if err := s.db.InTx(ctx, func(tx *platform.Tx) error { return saveJob(ctx, tx, j) }); err != nil {
		slog.Warn("port: recording a failed import job", "job", j.ID, "err", err)
	}
}
