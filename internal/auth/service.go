package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"agtrace/internal/platform"
)

// Session lifetimes.
const (
	BrowserSessionTTL = 12 * time.Hour
	APITokenTTL       = 24 * time.Hour
	// touchEvery limits last_seen writes to one per minute per session.
	touchEvery = time.Minute
)

// Service manages accounts, sessions and tokens.
type Service struct {
	db    *platform.DB
	clock platform.Clock
	// deviceKey signs device cookies (see throttle.go).
	deviceKey []byte
	// calls are integration clients' requests not yet written (clients.go).
	calls *callBuffer
}

// NewService returns the auth service over db.
func NewService(db *platform.DB, clock platform.Clock) *Service {
	return &Service{db: db, clock: clock, calls: &callBuffer{}}
}

// User is an account as shown to administrators.
type User struct {
	ID          int64     `json:"id"`
	Username    string    `json:"username"`
	Name        string    `json:"name"`
	Role        Role      `json:"role"`
	RegionCode  string    `json:"region_code"`
	AgencyID    int64     `json:"agency_id,omitempty"`
	OperatorID  int64     `json:"operator_id,omitempty"`
	Permissions []string  `json:"permissions,omitempty"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
}

// NewUser is the input for creating an account.
type NewUser struct {
	Username    string   `json:"username"`
	Password    string   `json:"password"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	RegionCode  string   `json:"region_code"`
	AgencyID    int64    `json:"agency_id,omitempty"`
	OperatorID  int64    `json:"operator_id,omitempty"`
	Permissions []string `json:"permissions,omitempty"`
}

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_.@-]{3,64}$`)

// ValidateNewUser checks the fields of u, prefixing field names with prefix.
func ValidateNewUser(u NewUser, prefix string) []platform.FieldError {
	var v platform.Validator
	if v.Require(prefix+"username", u.Username) {
		v.Check(usernameRE.MatchString(u.Username), prefix+"username", "format",
			"用户名为 3–64 位字母、数字或 _ . @ -", "username must be 3–64 letters, digits or _ . @ -")
	}
	if fe := CheckPasswordPolicy(prefix+"password", u.Password); fe != nil {
		v.Add(fe.Field, fe.Code, fe.ZH, fe.EN)
	}
	if v.Require(prefix+"role", u.Role) {
		v.Check(ValidRole(u.Role), prefix+"role", "unknown", "未知角色", "unknown role")
	}
	v.Require(prefix+"region_code", u.RegionCode)
	v.MaxLen(prefix+"name", u.Name, 64)
	for _, p := range u.Permissions {
		v.Check(slices.Contains(StaffPerms, p), prefix+"permissions", "unknown",
			"未知权限："+p, "unknown permission: "+p)
	}
	return v.Fields()
}

// CreateUser creates an account (admins, or System() for the CLI and the demo).
func (s *Service) CreateUser(ctx context.Context, actor *Actor, u NewUser) (User, error) {
	if err := Authorize(actor, ActUserManage, Resource{Region: u.RegionCode}); err != nil {
		return User{}, err
	}
	var out User
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		var err error
		out, err = s.CreateUserTx(ctx, tx, u)
		return err
	})
	return out, err
}

// CreateUserTx creates an account inside the caller's transaction (operator
// registration creates its main account together with the operator).
func (s *Service) CreateUserTx(ctx context.Context, tx *platform.Tx, u NewUser) (User, error) {
	u.Username = strings.TrimSpace(u.Username)
	if fields := ValidateNewUser(u, ""); len(fields) > 0 {
		return User{}, platform.Invalid(fields...)
	}
	var exists int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM regions WHERE code = $1`, u.RegionCode).Scan(&exists); err != nil {
		return User{}, err
	}
	if exists == 0 {
		return User{}, platform.Invalid(platform.FieldError{Field: "region_code", Code: "unknown",
			ZH: "行政区划代码不存在", EN: "unknown region code"})
	}
	hash, err := HashPassword(u.Password)
	if err != nil {
		return User{}, err
	}
	now := tx.Now()
	out := User{Username: u.Username, Name: u.Name, Role: Role(u.Role), RegionCode: u.RegionCode,
		AgencyID: u.AgencyID, OperatorID: u.OperatorID, Permissions: u.Permissions, Status: "active", CreatedAt: now}
	err = tx.QueryRow(ctx, `INSERT INTO users (username, password_hash, name, role, region_code, agency_id, operator_id,
		permissions, status, created_at, updated_at, password_changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9, $9) RETURNING id`,
		u.Username, hash, u.Name, u.Role, u.RegionCode, platform.NullInt(u.AgencyID), platform.NullInt(u.OperatorID),
		strings.Join(u.Permissions, ","), now).Scan(&out.ID)
	if platform.IsUniqueViolation(err) {
		return User{}, platform.Conflict("用户名已被使用", "username already taken").
			With("field", "username")
	}
	if err != nil {
		return User{}, fmt.Errorf("insert user: %w", err)
	}
	return out, tx.Emit(ctx, platform.Event{Action: "user.create", ResourceType: "user",
		ResourceID: fmt.Sprint(out.ID), Data: map[string]any{"username": out.Username, "role": out.Role, "region_code": out.RegionCode}})
}

const userColumns = `id, username, name, role, region_code, COALESCE(agency_id, 0), COALESCE(operator_id, 0), permissions, status, created_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var perms string
	if err := row.Scan(&u.ID, &u.Username, &u.Name, &u.Role, &u.RegionCode, &u.AgencyID, &u.OperatorID, &perms, &u.Status, &u.CreatedAt); err != nil {
		return User{}, err
	}
	if perms != "" {
		u.Permissions = strings.Split(perms, ",")
	}
	return u, nil
}

// GetUser loads one account.
func (s *Service) GetUser(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, platform.NotFound("用户不存在", "user not found")
	}
	return u, err
}

// GetUserByName loads one account by username.
func (s *Service) GetUserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, platform.NotFound("用户不存在", "user not found")
	}
	return u, err
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Role       string
	Region     string // subtree
	OperatorID int64
	Q          string
	Limit      int
	Offset     int // rows to skip (pages)
}

// ListUsers lists accounts visible to actor (admins: all; operators: their staff).
func (s *Service) ListUsers(ctx context.Context, actor *Actor, f UserFilter) ([]User, error) {
	sc := ListScope(actor, ActUserManage)
	if !sc.Allowed() {
		sc = ListScope(actor, ActStaffManage)
	}
	if !sc.Allowed() {
		return nil, sc.Err(actor, ActUserManage)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	w := NewWhere()
	w.Scope(sc, Columns{Region: []string{"region_code"}, Operator: []string{"operator_id"}, User: "id"})
	if f.Role != "" {
		w.Add("role = " + w.Arg(f.Role))
	}
	w.Region("region_code", f.Region)
	if f.OperatorID != 0 {
		w.Add("operator_id = " + w.Arg(f.OperatorID))
	}
	if f.Q != "" {
		like := w.Arg("%" + f.Q + "%")
		w.Add("(username LIKE " + like + " OR name LIKE " + like + ")")
	}
	q := `SELECT ` + userColumns + ` FROM users` + w.SQL() + ` ORDER BY id LIMIT ` + w.Arg(f.Limit) + ` OFFSET ` + w.Arg(max(f.Offset, 0))
	rows, err := s.db.Query(ctx, q, w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetUserStatus enables or disables an account (admins, or an operator for its staff).
func (s *Service) SetUserStatus(ctx context.Context, actor *Actor, id int64, status string) error {
	if status != "active" && status != "disabled" {
		return platform.Invalid(platform.FieldError{Field: "status", Code: "not_allowed", ZH: "状态只能是 active 或 disabled", EN: "status must be active or disabled"})
	}
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return err
	}
	if !actor.Can(ActUserManage) {
		if u.Role != RoleStaff {
			return Authorize(actor, ActUserManage, Resource{})
		}
		if err := Authorize(actor, ActStaffManage, Resource{OperatorID: u.OperatorID}); err != nil {
			return err
		}
	}
	return s.db.InTx(ctx, func(tx *platform.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET status = $1, updated_at = $2 WHERE id = $3`, status, tx.Now(), id); err != nil {
			return err
		}
		if status == "disabled" {
			if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, tx.Now(), id); err != nil {
				return err
			}
		}
		return tx.Emit(ctx, platform.Event{Action: "user." + status, ResourceType: "user", ResourceID: fmt.Sprint(id)})
	})
}

// SetPassword resets an account's password (admins, or System() for the
// CLI); existing sessions end and the audit log names who reset it.
func (s *Service) SetPassword(ctx context.Context, actor *Actor, id int64, pw string) error {
	if err := Authorize(actor, ActUserManage, Resource{}); err != nil {
		return err
	}
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return err
	}
	if err := Authorize(actor, ActUserManage, Resource{Region: u.RegionCode}); err != nil {
		return err
	}
	return s.setPassword(ctx, actor, id, pw)
}

func (s *Service) setPassword(ctx context.Context, actor *Actor, id int64, pw string) error {
	if fe := CheckPasswordPolicy("password", pw); fe != nil {
		return platform.Invalid(*fe)
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *platform.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2 WHERE id = $3`, hash, tx.Now(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return platform.NotFound("用户不存在", "user not found")
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, tx.Now(), id); err != nil {
			return err
		}
		var username string
		if err := tx.QueryRow(ctx, `SELECT username FROM users WHERE id = $1`, id).Scan(&username); err != nil {
			return err
		}
		if err := clearThrottleTx(ctx, tx, username); err != nil { // a new password ends any throttling of the account
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "user.password", ResourceType: "user", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"by": actor.Username, "by_id": actor.UserID}})
	})
}

// ChangePassword lets a user change their own password, given the old one.
func (s *Service) ChangePassword(ctx context.Context, actor *Actor, oldPW, newPW string) error {
	if err := Authorize(actor, ActOwnAccount, Resource{UserID: actor.UserID}); err != nil {
		return err
	}
	var hash string
	if err := s.db.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, actor.UserID).Scan(&hash); err != nil {
		return err
	}
	if !CheckPassword(hash, oldPW) {
		return platform.Invalid(platform.FieldError{Field: "old_password", Code: "wrong", ZH: "原密码不正确", EN: "current password is wrong"})
	}
	if fe := CheckPasswordPolicy("new_password", newPW); fe != nil {
		return platform.Invalid(*fe)
	}
	return s.setPassword(ctx, actor, actor.UserID, newPW)
}

// Session is an issued token.
type Session struct {
	Token     string    `json:"token"`
	TokenID   string    `json:"token_id,omitempty" doc:"integration tokens: the id to list and revoke it by"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

var errBadLogin = platform.Unauthorized("用户名或密码错误", "wrong username or password")

// Login checks credentials and issues a session token of the given kind
// ("browser" or "api"), with the throttling of LoginDevice and no device cookie.
func (s *Service) Login(ctx context.Context, username, password, addr, kind string) (Session, error) {
	res, err := s.LoginDevice(ctx, LoginInput{Username: username, Password: password, Addr: addr, Kind: kind})
	return res.Session, err
}

var dummyHash, _ = HashPassword("agtrace-dummy-password")

// Integration token lifetimes, in days: valid_days must lie in
// [1, MaxTokenDays]; 0 (not given) is MaxTokenDays.
const MaxTokenDays = 365

// IssueIntegrationToken creates a long-lived token for a machine client,
// labelled name, limited to the given actions (empty = the account's role
// defaults), valid for validDays days (1–365; 0 = 365).
func (s *Service) IssueIntegrationToken(ctx context.Context, actor *Actor, userID int64, name string, scopes []string, validDays int) (Session, error) {
	return s.IssueClientToken(ctx, actor, userID, TokenRequest{Name: name, Scopes: scopes, ValidDays: validDays})
}

// IssueClientToken is IssueIntegrationToken with the token's rate limit
// (zero: the default, DefaultClientRate).
func (s *Service) IssueClientToken(ctx context.Context, actor *Actor, userID int64, in TokenRequest) (Session, error) {
	if err := Authorize(actor, ActTokenManage, Resource{}); err != nil {
		return Session{}, err
	}
	name, scopes, validDays := in.Name, in.Scopes, in.ValidDays
	var v platform.Validator
	name = strings.TrimSpace(name)
	if v.Require("name", name) {
		v.MaxLen("name", name, 100)
	}
	v.Check(validDays >= 0 && validDays <= MaxTokenDays, "valid_days", "range",
		fmt.Sprintf("有效期应为 1–%d 天", MaxTokenDays), fmt.Sprintf("must be between 1 and %d days", MaxTokenDays))
	checkRate(&v, in.Rate)
	if err := v.Err(); err != nil {
		return Session{}, err
	}
	if validDays == 0 {
		validDays = MaxTokenDays
	}
	ttl := time.Duration(validDays) * 24 * time.Hour
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return Session{}, err
	}
	if u.Role != RoleIntegration {
		return Session{}, platform.Invalid(platform.FieldError{Field: "user_id", Code: "not_integration",
			ZH: "只能为 integration 角色的账号签发接口令牌", EN: "integration tokens are issued to integration accounts only"})
	}
	for _, sc := range scopes {
		if _, ok := policy[RoleIntegration][Action(sc)]; !ok {
			return Session{}, platform.Invalid(platform.FieldError{Field: "scopes", Code: "unknown",
				ZH: "该角色不能拥有权限：" + sc, EN: "scope not available to integration clients: " + sc})
		}
	}
	sess, err := s.issue(ctx, userID, sessionKindIntegration, name, scopes, platform.OriginFrom(ctx).Addr, ttl)
	if err != nil {
		return Session{}, err
	}
	sess.TokenID = tokenID(hashToken(sess.Token))
	return sess, s.db.InTx(ctx, func(tx *platform.Tx) error {
		data := map[string]any{"name": name, "token_id": sess.TokenID, "scopes": scopes, "expires_at": sess.ExpiresAt}
		if in.Rate.PerMinute > 0 {
			if _, err := tx.Exec(ctx, `UPDATE sessions SET rate_per_minute = $1, rate_burst = $2 WHERE token_hash = $3`,
				in.Rate.PerMinute, in.Rate.Burst, hashToken(sess.Token)); err != nil {
				return err
			}
			data["rate_per_minute"], data["rate_burst"] = in.Rate.PerMinute, in.Rate.OrDefault().Burst
		}
		return tx.Emit(ctx, platform.Event{Action: "token.issue", ResourceType: "user", ResourceID: fmt.Sprint(userID), Data: data})
	})
}

func (s *Service) issue(ctx context.Context, userID int64, kind, name string, scopes []string, addr string, ttl time.Duration) (Session, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Session{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.clock.Now()
	exp := now.Add(ttl)
	if _, err := s.db.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, kind, name, scopes, created_at, expires_at, last_seen_at, addr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $8)`, hashToken(token), userID, kind, name, strings.Join(scopes, ","), now, exp, addr); err != nil {
		return Session{}, fmt.Errorf("insert session: %w", err)
	}
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return Session{}, err
	}
	return Session{Token: token, ExpiresAt: exp, User: u}, nil
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// Authenticate resolves a token to an actor, or returns a 401 error.
func (s *Service) Authenticate(ctx context.Context, token string) (*Actor, error) {
	if token == "" {
		return nil, platform.Unauthorized("请先登录", "authentication required")
	}
	now := s.clock.Now()
	var (
		a        Actor
		perms    string
		scopes   string
		status   string
		expires  time.Time
		lastSeen time.Time
		revoked  sql.NullTime
		kind     string
	)
	h := hashToken(token)
	err := s.db.QueryRow(ctx, `SELECT u.id, u.username, u.name, u.role, u.region_code, COALESCE(u.operator_id, 0), u.permissions,
		u.status, s.scopes, s.expires_at, s.last_seen_at, s.revoked_at, s.kind, s.rate_per_minute, s.rate_burst
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, h).
		Scan(&a.UserID, &a.Username, &a.Name, &a.Role, &a.Region, &a.OperatorID, &perms, &status, &scopes, &expires, &lastSeen, &revoked,
			&kind, &a.Rate.PerMinute, &a.Rate.Burst)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (revoked.Valid || !expires.After(now) || status != "active")) {
		return nil, platform.Unauthorized("登录已失效，请重新登录", "session expired or revoked; log in again")
	}
	if err != nil {
		return nil, err
	}
	if perms != "" {
		a.Permissions = strings.Split(perms, ",")
	}
	if scopes != "" {
		a.Scopes = strings.Split(scopes, ",")
	}
	if kind == sessionKindIntegration {
		a.TokenID, a.Rate = tokenID(h), a.Rate.OrDefault()
	} else {
		a.Rate = ClientRate{}
	}
	if now.Sub(lastSeen) > touchEvery {
		_, _ = s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2`, now, h)
	}
	return &a, nil
}

// Logout revokes a token.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, err := s.db.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL`, s.clock.Now(), hashToken(token))
	return err
}
