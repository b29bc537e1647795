package console

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// overviewDays is the span of the overview's charts.
const overviewDays = 14

// overviewData is the overview page's data.
type overviewData struct {
	Stats  *userpool.PoolStats
	Charts []chart
	Totals struct{ NewUsers, SignIns, FailedLogins, CaptchaDemands int }
}

// overview shows the pool's figures: users, and per day new users,
// sign-ins, failed logins and CAPTCHA demands (server-rendered SVG), the
// webhook backlog and failures, and pipeline failures, all from the store.
func (s *Service) overview(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	st, err := s.d.Admin.PoolStats(r.Context(), c.meta, overviewDays)
	if err != nil {
		return err
	}
	d := overviewData{Stats: st}
	first := s.d.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -(overviewDays - 1))
	for _, series := range []struct {
		key    string
		values []int
		total  *int
	}{
		{"overview.new_users", st.NewUsers, &d.Totals.NewUsers},
		{"overview.sign_ins", st.SignIns, &d.Totals.SignIns},
		{"overview.failed_logins", st.FailedLogins, &d.Totals.FailedLogins},
		{"overview.captcha_demands", st.CaptchaDemands, &d.Totals.CaptchaDemands},
	} {
		for _, v := range series.values {
			*series.total += v
		}
		d.Charts = append(d.Charts, barChart(series.key, T(c.lang, series.key), series.values, first))
	}
	s.render(w, r, c, http.StatusOK, "overview", Page{Title: "nav.overview", Section: "nav.overview", Pool: p, Data: d})
	return nil
}

// chart is a small bar chart drawn as SVG by the template: one bar per
// day, with a text alternative (Summary) and a title per bar.
type chart struct {
	Key, Label, Summary string
	Width, Height       int
	Bars                []bar
	Max                 int
}

type bar struct {
	X, Y, W, H int
	Title      string
}

// barChart lays out values (one per day from first) in a 280x60 box.
func barChart(key, label string, values []int, first time.Time) chart {
	const width, height = 280, 60
	c := chart{Key: key, Label: label, Width: width, Height: height}
	for _, v := range values {
		c.Max = max(c.Max, v)
	}
	n := max(len(values), 1)
	slot := width / n
	total := 0
	for i, v := range values {
		total += v
		h := 0
		if c.Max > 0 {
			h = v * (height - 2) / c.Max
		}
		if v > 0 {
			h = max(h, 1)
		}
		c.Bars = append(c.Bars, bar{
			X: i*slot + 1, W: max(slot-2, 1), Y: height - h, H: h,
			Title: first.AddDate(0, 0, i).Format("2006-01-02") + ": " + strconv.Itoa(v),
		})
	}
	c.Summary = fmt.Sprintf("%s: %d (%s – %s)", label, total, first.Format("2006-01-02"), first.AddDate(0, 0, n-1).Format("2006-01-02"))
	return c
}
