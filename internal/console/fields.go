package console

import (
	"net/http"
	"net/url"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// fieldTypes are the types a field may be defined with.
var fieldTypes = []userpool.DataType{userpool.TypeString, userpool.TypeNumber, userpool.TypeBoolean, userpool.TypeDatetime, userpool.TypeObject}

// fieldsData is the fields page: the definitions and the define form
// (kept as typed when it is refused).
type fieldsData struct {
	Fields           []*userpool.Field
	Types            []userpool.DataType
	Key, Type, Label string
	Description      string
	UserEditable     bool
}

// fieldDoneNotices are the notices a change may leave on the fields page.
var fieldDoneNotices = map[string]bool{"field_defined": true, "field_updated": true, "field_deleted": true}

func (s *Service) fieldsPage(w http.ResponseWriter, r *http.Request, c *call, p *userpool.Pool, status int, d fieldsData, msg string) error {
	list, err := s.d.Admin.ListFields(r.Context(), c.meta)
	if err != nil {
		return err
	}
	d.Fields, d.Types = list, fieldTypes
	pg := Page{Title: "nav.fields", Section: "nav.fields", Pool: p, Data: d, Error: msg}
	if k := r.URL.Query().Get("done"); fieldDoneNotices[k] && msg == "" {
		pg.Notice = T(c.lang, "done."+k)
	}
	s.render(w, r, c, status, "fields", pg)
	return nil
}

// fields lists the pool's field definitions with the define form.
func (s *Service) fields(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	return s.fieldsPage(w, r, c, p, http.StatusOK, fieldsData{Type: string(userpool.TypeString)}, "")
}

func (s *Service) fieldsDone(w http.ResponseWriter, r *http.Request, c *call, notice string) {
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/fields?done="+notice)
}

// defineField defines a field as the admin API does (udf's rules on key,
// type and label); a refusal shows the form again as typed.
func (s *Service) defineField(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	f := r.PostForm
	d := fieldsData{Key: f.Get("key"), Type: f.Get("dataType"), Label: f.Get("label"), Description: f.Get("description"), UserEditable: f.Get("userEditable") == "1"}
	_, err = s.d.Admin.DefineField(r.Context(), c.meta, userpool.Field{Key: d.Key, DataType: userpool.DataType(d.Type), Label: d.Label, Description: d.Description, UserEditable: d.UserEditable})
	if err != nil {
		if statusOf(codeOf(err)) == http.StatusBadRequest {
			return s.fieldsPage(w, r, c, p, http.StatusBadRequest, d, formError(c.lang, err))
		}
		return err
	}
	s.fieldsDone(w, r, c, "field_defined")
	return nil
}

// updateField changes a field's label, description and whether users
// may edit their own value (the form always carries the checkbox, so its
// absence means "no"); the type stays: the admin API refuses a type
// change while values exist, and the console does not offer one.
func (s *Service) updateField(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	label, desc, editable := r.PostForm.Get("label"), r.PostForm.Get("description"), r.PostForm.Get("userEditable") == "1"
	if _, err := s.d.Admin.UpdateField(r.Context(), c.meta, r.PathValue("key"), admin.FieldUpdate{Label: &label, Description: &desc, UserEditable: &editable}); err != nil {
		if statusOf(codeOf(err)) == http.StatusBadRequest {
			return s.fieldsPage(w, r, c, p, http.StatusBadRequest, fieldsData{Type: string(userpool.TypeString)}, formError(c.lang, err))
		}
		return err
	}
	s.fieldsDone(w, r, c, "field_updated")
	return nil
}

// fieldDeleteData is the confirmation page of a field's deletion.
type fieldDeleteData struct {
	Field  *userpool.Field
	Values int64
}

// confirmDeleteField says how many users' values the deletion removes.
func (s *Service) confirmDeleteField(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	f, err := s.d.Admin.GetField(r.Context(), c.meta, key)
	if err != nil {
		return err
	}
	n, err := s.d.Admin.FieldValueCount(r.Context(), c.meta, key)
	if err != nil {
		return err
	}
	s.render(w, r, c, http.StatusOK, "fielddelete", Page{Title: "fields.delete", Section: "nav.fields", Pool: p, Data: fieldDeleteData{Field: f, Values: n}})
	return nil
}

// deleteField deletes the definition and every value of it, once the
// confirmation page's box is ticked.
func (s *Service) deleteField(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "1" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "confirmation_required", "%s", T(c.lang, "common.unconfirmed"))
	}
	if err := s.d.Admin.DeleteField(r.Context(), c.meta, r.PathValue("key")); err != nil {
		return err
	}
	s.fieldsDone(w, r, c, "field_deleted")
	return nil
}
