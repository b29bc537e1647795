package pipeline

import (
	"encoding/json"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

// NewEvent builds the outbox event typ of a pool at time at, its payload an
// api.WebhookEvent carrying data. The store gives it its webhook-id.
func NewEvent(typ, poolID string, at time.Time, data api.WebhookData) *userpool.Event {
	data.UserPoolID = poolID
	b, err := json.Marshal(api.WebhookEvent{Type: typ, Timestamp: at.UTC(), Data: data})
	if err != nil {
		panic(err) // api.WebhookEvent always encodes
	}
	return &userpool.Event{PoolID: poolID, Type: typ, Payload: b, CreatedAt: at}
}

// UserEvent builds the event typ about u, as stored by the change the
// event reports, with where the request came from.
func UserEvent(typ string, u *userpool.User, req Request, at time.Time) *userpool.Event {
	return NewEvent(typ, u.PoolID, at, api.WebhookData{
		User: APIUser(u), ClientIP: req.IP, UserAgent: req.UserAgent, Method: req.Method, AppID: req.AppID,
	})
}
