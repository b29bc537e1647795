package admin

import (
	"context"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// AuditExported records that the acting key downloaded the pool's audit
// events matching f (admin.audit.export; detail: the filter's event,
// user, since and until, each when set, and the acting key). A download
// of the log is itself in the log, so a reader of the log sees who took
// a copy of it. Written before the download starts: a download broken
// off half way was still a copy.
func (a *Service) AuditExported(ctx context.Context, m auth.Meta, f userpool.AuditFilter) error {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return err
	}
	detail := map[string]string{}
	for k, v := range map[string]string{"event": f.Event, "user": f.UserID} {
		if v != "" {
			detail[k] = strings.ToValidUTF8(truncateDetail(v), "")
		}
	}
	for k, v := range map[string]time.Time{"since": f.Since, "until": f.Until} {
		if !v.IsZero() {
			detail[k] = v.UTC().Format(time.RFC3339Nano)
		}
	}
	a.audit(ctx, m, id, "", "admin.audit.export", detail)
	return nil
}
