package operator

import (
	"context"
	"fmt"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// StaffInput creates a staff account (子账号) of an operator.
type StaffInput struct {
	Username    string   `json:"username"`
	Password    string   `json:"password"`
	Name        string   `json:"name"`
	Permissions []string `json:"permissions" doc:"record | sell | print"`
}

// CreateStaff creates a staff account (role staff) acting for the operator
// with the permissions its main account grants (record batches, sell, print).
func (s *Service) CreateStaff(ctx context.Context, actor *auth.Actor, operatorID int64, in StaffInput) (auth.User, error) {
	o, err := s.readable(ctx, actor, operatorID, auth.ActStaffManage)
	if err != nil {
		return auth.User{}, err
	}
	if o.Status == StatusCancelled {
		return auth.User{}, platform.Conflict("主体已注销", "the operator is cancelled")
	}
	var u auth.User
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		var err error
		u, err = s.users.CreateUserTx(ctx, tx, auth.NewUser{Username: strings.TrimSpace(in.Username), Password: in.Password, Name: strings.TrimSpace(in.Name),
			Role: string(auth.RoleStaff), RegionCode: o.RegionCode, OperatorID: o.ID, Permissions: in.Permissions})
		if err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "operator.staff.create", ResourceType: "operator", ResourceID: fmt.Sprint(o.ID),
			Data: map[string]any{"user_id": u.ID, "username": u.Username, "permissions": in.Permissions}})
	})
	return u, err
}

// Staff lists an operator's staff accounts (its main account).
func (s *Service) Staff(ctx context.Context, actor *auth.Actor, operatorID int64) ([]auth.User, error) {
	if _, err := s.readable(ctx, actor, operatorID, auth.ActStaffManage); err != nil {
		return nil, err
	}
	list, err := s.users.ListUsers(ctx, &auth.Actor{Role: auth.RoleAdmin, Region: "000000"}, auth.UserFilter{Role: string(auth.RoleStaff), OperatorID: operatorID, Limit: 500})
	if list == nil {
		list = []auth.User{}
	}
	return list, err
}

// SetStaffStatus enables or disables one of the operator's staff accounts.
func (s *Service) SetStaffStatus(ctx context.Context, actor *auth.Actor, operatorID, userID int64, status string) error {
	if _, err := s.readable(ctx, actor, operatorID, auth.ActStaffManage); err != nil {
		return err
	}
	u, err := s.users.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.Role != auth.RoleStaff || u.OperatorID != operatorID {
		return platform.NotFound("子账号不存在", "staff account not found")
	}
	return s.users.SetUserStatus(ctx, actor, userID, status)
}
