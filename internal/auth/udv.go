package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/authpool/authpool/internal/udf"
	"github.com/authpool/authpool/internal/userpool"
)

// UDV is a user's value of a user-defined field, decoded for answers:
// Value is a string, float64, bool, time.Time or json.RawMessage (OBJECT).
type UDV struct {
	Key      string
	DataType userpool.DataType
	Label    string
	Value    any
}

// ListUdv returns the caller's user-defined data, ordered by key.
func (s *Service) ListUdv(ctx context.Context, m Meta, tok string) ([]UDV, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	return s.userData(ctx, u)
}

// SetUdv sets the caller's value of key, which must be defined in the
// pool and match its type, and returns the caller's whole list. The change
// is reported as user.udv_changed, in its transaction.
func (s *Service) SetUdv(ctx context.Context, m Meta, tok, key string, raw json.RawMessage) ([]UDV, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	if _, err := s.editableField(ctx, u.PoolID, key); err != nil {
		return nil, err
	}
	return s.SetUserValue(ctx, m, u, key, raw)
}

// SetUserValue is SetUdv for user u, whoever asks (an administrator's
// console calls it with a user it read): any defined field, user-editable
// or not.
func (s *Service) SetUserValue(ctx context.Context, m Meta, u *userpool.User, key string, raw json.RawMessage) ([]UDV, error) {
	f, err := s.definedField(ctx, u.PoolID, key)
	if err != nil {
		return nil, err
	}
	stored, err := udf.Parse(f, raw)
	if err != nil {
		return nil, err
	}
	v := &userpool.UserValue{Key: key, DataType: f.DataType, Label: f.Label, Value: stored, UpdatedAt: s.now().UTC()}
	before, err := s.store.ListUserValues(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	set := []*userpool.UserValue{v}
	err = s.store.WriteRecords(ctx, &userpool.ValueChange{PoolID: u.PoolID, UserID: u.ID, Set: set}, s.udvEvent(m, u, before, set, nil))
	if err != nil {
		return nil, s.valueError(ctx, u.PoolID, key, err)
	}
	return s.userData(ctx, u)
}

// RemoveUdv removes the caller's value of key and returns the caller's
// whole list. The removal is reported as user.udv_changed; a defined key
// without a value is no error, changes nothing and reports nothing.
func (s *Service) RemoveUdv(ctx context.Context, m Meta, tok, key string) ([]UDV, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	if _, err := s.editableField(ctx, u.PoolID, key); err != nil {
		return nil, err
	}
	return s.RemoveUserValue(ctx, m, u, key)
}

// RemoveUserValue is RemoveUdv for user u, whoever asks: any defined
// field, user-editable or not.
func (s *Service) RemoveUserValue(ctx context.Context, m Meta, u *userpool.User, key string) ([]UDV, error) {
	if _, err := s.definedField(ctx, u.PoolID, key); err != nil {
		return nil, err
	}
	before, err := s.store.ListUserValues(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(before, func(v *userpool.UserValue) bool { return v.Key == key }) {
		return s.userData(ctx, u)
	}
	remove := []string{key}
	err = s.store.WriteRecords(ctx, &userpool.ValueChange{PoolID: u.PoolID, UserID: u.ID, Remove: remove}, s.udvEvent(m, u, before, nil, remove))
	if err != nil {
		return nil, err
	}
	return s.userData(ctx, u)
}

// definedField returns the pool's definition of key, or the coded
// unknown-key error.
func (s *Service) definedField(ctx context.Context, poolID, key string) (*userpool.Field, error) {
	if udf.CheckKey(key) != nil {
		return nil, udf.UnknownKey(key)
	}
	f, err := s.store.GetField(ctx, poolID, key)
	if errors.Is(err, userpool.ErrFieldNotFound) {
		return nil, udf.UnknownKey(key)
	}
	return f, err
}

var errFieldNotEditable = userpool.Errorf(userpool.CodeNoPermission, "field_not_user_editable", "this field's value is set by the application, not by its user")

// editableField is definedField for an end user's own write: the field
// must be marked user-editable (docs/ACCOUNT.md).
func (s *Service) editableField(ctx context.Context, poolID, key string) (*userpool.Field, error) {
	f, err := s.definedField(ctx, poolID, key)
	if err != nil {
		return nil, err
	}
	if !f.UserEditable {
		return nil, errFieldNotEditable
	}
	return f, nil
}

// valueError turns the store's answer to a write that raced with an
// administrator's change into the error the caller would have had a
// moment later: unknown key, or a mismatch with the field's new type.
func (s *Service) valueError(ctx context.Context, poolID, key string, err error) error {
	switch {
	case errors.Is(err, userpool.ErrFieldNotFound):
		return udf.UnknownKey(key)
	case errors.Is(err, userpool.ErrFieldTypeChanged):
		f, ferr := s.definedField(ctx, poolID, key)
		if ferr != nil {
			return ferr
		}
		return udf.Mismatch(f, "its type changed while the value was being saved")
	case errors.Is(err, userpool.ErrUserNotFound):
		return errTokenInvalid
	}
	return err
}

// userData reads and decodes u's values.
func (s *Service) userData(ctx context.Context, u *userpool.User) ([]UDV, error) {
	vals, err := s.store.ListUserValues(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	return decodeValues(u, vals)
}

// decodeValues turns u's stored values into UDVs.
func decodeValues(u *userpool.User, vals []*userpool.UserValue) ([]UDV, error) {
	out := make([]UDV, 0, len(vals))
	for _, v := range vals {
		dv, err := udf.Decode(v.DataType, v.Value)
		if err != nil {
			return nil, userpool.Internal(fmt.Errorf("user %s field %q: %w", u.ID, v.Key, err))
		}
		out = append(out, UDV{Key: v.Key, DataType: v.DataType, Label: v.Label, Value: dv})
	}
	return out, nil
}

// withCustomData adds the user's values to a result, so that answers that
// carry a user (login, GetCurrentUser, registration) show CustomData. It
// takes the result and error of the call it wraps.
func (s *Service) withCustomData(ctx context.Context, res *Result, err error) (*Result, error) {
	if err != nil {
		return nil, err
	}
	res.CustomData, err = s.userData(ctx, res.User)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Who writes the values parseCustomData checks.
const (
	// byUser: customData of a registration or login, sent by the end
	// user's client: the user's own write, limited to user-editable
	// fields like SetUdv (else 2018 field_not_user_editable).
	byUser = true
	// byApplication: an administrator creating a user (and the checks
	// that only name a key after a failed write): any defined field.
	byApplication = false
)

// parseCustomData checks values given at registration or login (byUser)
// or by an administrator creating a user (byApplication) exactly as
// SetUdv would, before anything is stored.
func (s *Service) parseCustomData(ctx context.Context, poolID string, in map[string]json.RawMessage, userWrite bool) ([]*userpool.UserValue, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > udf.MaxFieldsPerPool {
		return nil, invalid("invalid_custom_data", "customData may hold at most %d keys", udf.MaxFieldsPerPool)
	}
	fields, err := s.store.ListFields(ctx, poolID)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]*userpool.Field, len(fields))
	for _, f := range fields {
		byKey[f.Key] = f
	}
	now := s.now().UTC()
	vals := make([]*userpool.UserValue, 0, len(in))
	for key, raw := range in {
		f, ok := byKey[key]
		if !ok {
			return nil, udf.UnknownKey(key)
		}
		if userWrite && !f.UserEditable {
			return nil, userpool.Errorf(userpool.CodeNoPermission, "field_not_user_editable", "customData: the field %q is set by the application, not by its user", key)
		}
		stored, err := udf.Parse(f, raw)
		if err != nil {
			return nil, err
		}
		vals = append(vals, &userpool.UserValue{Key: key, DataType: f.DataType, Value: stored, UpdatedAt: now})
	}
	return vals, nil
}

// setCustomData stores the values of an existing user's login from in
// (checked by parseCustomData into vals). Should the write fail (an
// administrator changed a definition in between), in is checked again to
// name the key that no longer fits.
func (s *Service) setCustomData(ctx context.Context, u *userpool.User, in map[string]json.RawMessage, vals []*userpool.UserValue) error {
	if len(vals) == 0 {
		return nil
	}
	err := s.store.SetUserValues(ctx, u.PoolID, u.ID, vals)
	if err == nil {
		return nil
	}
	if _, perr := s.parseCustomData(ctx, u.PoolID, in, byApplication); perr != nil {
		return perr
	}
	return err
}
