package admin

import (
	"context"
	"errors"
	"strconv"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/udf"
	"github.com/authpool/authpool/internal/userpool"
)

// FieldUpdate changes a definition; nil leaves a part as it is.
type FieldUpdate struct {
	Label       *string
	Description *string
	DataType    *string
	// UserEditable lets end users set their own values (nil: unchanged).
	UserEditable *bool
}

var errTooManyFields = userpool.Errorf(userpool.CodeInvalidArgument, "too_many_fields", "a user pool may define at most 200 user-defined fields")

// DefineField adds a field definition to the pool. The label defaults to
// the key.
func (a *Service) DefineField(ctx context.Context, m auth.Meta, f userpool.Field) (*userpool.Field, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if err := udf.CheckDefinition(&f); err != nil {
		return nil, err
	}
	existing, err := a.store.ListFields(ctx, id)
	if err != nil {
		return nil, err
	}
	// Checked before the insert, so concurrent definitions may overshoot by
	// a few; the bound is about keeping CustomData small, not exact.
	if len(existing) >= udf.MaxFieldsPerPool {
		return nil, errTooManyFields
	}
	now := a.now().UTC()
	f.PoolID, f.CreatedAt, f.UpdatedAt = id, now, now
	if err := a.store.CreateField(ctx, &f); err != nil {
		return nil, fieldError(f.Key, err)
	}
	a.audit(ctx, m, id, "", "admin.field.define", map[string]string{"key": f.Key, "dataType": string(f.DataType), "userEditable": strconv.FormatBool(f.UserEditable)})
	return &f, nil
}

// ListFields returns the pool's definitions ordered by key.
func (a *Service) ListFields(ctx context.Context, m auth.Meta) ([]*userpool.Field, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	return a.store.ListFields(ctx, id)
}

// GetField returns one definition.
func (a *Service) GetField(ctx context.Context, m auth.Meta, key string) (*userpool.Field, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	f, err := a.store.GetField(ctx, id, key)
	return f, fieldError(key, err)
}

// UpdateField changes label, description or type; a type change is
// refused (2404) while any user has a value for the field.
func (a *Service) UpdateField(ctx context.Context, m auth.Meta, key string, up FieldUpdate) (*userpool.Field, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	var dt userpool.DataType
	if up.DataType != nil {
		if dt, err = udf.ParseType(*up.DataType); err != nil {
			return nil, err
		}
	}
	f, err := a.store.UpdateField(ctx, id, key, func(f *userpool.Field) error {
		if up.Label != nil {
			f.Label = *up.Label
		}
		if up.Description != nil {
			f.Description = *up.Description
		}
		if up.DataType != nil {
			f.DataType = dt
		}
		if up.UserEditable != nil {
			f.UserEditable = *up.UserEditable
		}
		f.UpdatedAt = a.now().UTC()
		return udf.CheckLabels(f)
	})
	if err != nil {
		return nil, fieldError(key, err)
	}
	a.audit(ctx, m, id, "", "admin.field.update", map[string]string{"key": key, "dataType": string(f.DataType), "userEditable": strconv.FormatBool(f.UserEditable)})
	return f, nil
}

// DeleteField deletes a definition and every user's value of it.
func (a *Service) DeleteField(ctx context.Context, m auth.Meta, key string) error {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return err
	}
	if err := a.store.DeleteField(ctx, id, key); err != nil {
		return fieldError(key, err)
	}
	a.audit(ctx, m, id, "", "admin.field.delete", map[string]string{"key": key})
	return nil
}

// fieldError names the key in the store's field sentinels.
func fieldError(key string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, userpool.ErrFieldNotFound):
		return udf.UnknownKey(key)
	case errors.Is(err, userpool.ErrFieldExists):
		e := *userpool.ErrFieldExists
		e.Message = "user-defined field " + strconv.Quote(key) + " already exists in this user pool"
		e.Data = map[string]any{"key": key}
		return &e
	case errors.Is(err, userpool.ErrFieldInUse):
		e := *userpool.ErrFieldInUse
		e.Message = "the type of " + strconv.Quote(key) + " cannot change while users have values for it (delete the field to start over)"
		e.Data = map[string]any{"key": key}
		return &e
	}
	return err
}

// FieldValueCount is how many users have a value of the field: what
// DeleteField would remove (the console's confirmation shows it).
func (a *Service) FieldValueCount(ctx context.Context, m auth.Meta, key string) (int64, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return 0, err
	}
	if _, err := a.store.GetField(ctx, id, key); err != nil {
		return 0, fieldError(key, err)
	}
	return a.store.CountFieldValues(ctx, id, key)
}
