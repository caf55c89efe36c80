package dokploy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/dokploy/internal/dotenv"
)

// schedulePrefix starts the names of the schedules Launchplane keeps, one
// per job name and service.
const schedulePrefix = "launchplane-"

// schedule is a row of schedule.list.
type schedule struct {
	ScheduleID     string       `json:"scheduleId"`
	Name           string       `json:"name"`
	CronExpression string       `json:"cronExpression"`
	Command        string       `json:"command"`
	ShellType      string       `json:"shellType"`
	ServiceName    *string      `json:"serviceName"`
	Enabled        bool         `json:"enabled"`
	Deployments    []deployment `json:"deployments"`
}

// RunJob runs j.Command in the service's container through a Dokploy
// schedule (disabled, never firing, shell sh) named launchplane-<job>,
// with schedule.runManually, which waits for the command. Output is the
// tail of the run's log. Dokploy reports no exit code: a failed run has
// ExitCode 1.
//
// A schedule cannot carry an environment and secret values never go on a
// command line, so every j.Env entry must already be in the service's
// environment with the same value (Launchplane deploys them with the
// app); otherwise RunJob fails naming the keys.
func (p *Provider) RunJob(ctx context.Context, j providers.Job) (providers.JobResult, error) {
	for _, k := range j.SecretKeys {
		p.red.Add(j.Env[k])
	}
	res, err := p.runJob(ctx, j)
	res.Output = p.red.String(res.Output)
	return res, p.wrap("job", j.Target, err)
}

func (p *Provider) runJob(ctx context.Context, j providers.Job) (providers.JobResult, error) {
	var res providers.JobResult
	if err := p.ready(ctx); err != nil {
		return res, err
	}
	if len(j.Command) == 0 {
		return res, errors.New("job has no command")
	}
	name := j.AppName
	if name == "" {
		name = providers.ObjectName(j.Target)
	}
	svc, err := p.find(ctx, providers.AppRef{Target: j.Target, Name: name})
	if err != nil {
		return res, err
	}
	if svc == nil {
		return res, fmt.Errorf("no %s named %q in environment %s: deploy the app before running jobs in it", p.kind.name, name, p.c.EnvironmentID)
	}
	if err := p.checkJobEnv(svc, j); err != nil {
		return res, err
	}
	sc, err := p.ensureSchedule(ctx, svc, j)
	if err != nil {
		return res, err
	}
	var run struct {
		Status       string `json:"status"`
		DeploymentID string `json:"deploymentId"`
	}
	if err := p.postLong(ctx, "schedule.runManually", map[string]any{"scheduleId": sc.ScheduleID}, &run); err != nil {
		return res, err
	}
	res.ID = run.DeploymentID
	if run.DeploymentID != "" {
		out, err := p.logs(ctx, run.DeploymentID, 100)
		if err != nil && run.Status == "done" {
			return res, err
		}
		res.Output = out
	}
	switch run.Status {
	case "done":
		return res, nil
	case "error":
		res.ExitCode = 1
		return res, fmt.Errorf("%w: run %s of schedule %q ended with status error: %s", providers.ErrJobFailed, run.DeploymentID, sc.Name, logTail(res.Output, 5, 600))
	}
	res.ExitCode = -1
	return res, fmt.Errorf("run %s of schedule %q has status %q: not done", run.DeploymentID, sc.Name, run.Status)
}

// checkJobEnv requires every job env entry in the service's environment.
func (p *Provider) checkJobEnv(svc *service, j providers.Job) error {
	if len(j.Env) == 0 {
		return nil
	}
	have := dotenv.Parse(svc.env())
	var missing, differ []string
	for k, v := range j.Env {
		switch g, ok := have[k]; {
		case !ok:
			missing = append(missing, k)
		case g != v:
			differ = append(differ, k)
		}
	}
	if len(missing)+len(differ) == 0 {
		return nil
	}
	sort.Strings(missing)
	sort.Strings(differ)
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing "+strings.Join(missing, ", "))
	}
	if len(differ) > 0 {
		parts = append(parts, "different "+strings.Join(differ, ", "))
	}
	return fmt.Errorf("job env not in the environment of %q (%s): a Dokploy schedule runs with the app's environment only, so deploy these keys with the app",
		svc.Name, strings.Join(parts, "; "))
}

func (p *Provider) schedules(ctx context.Context, svc *service) ([]schedule, error) {
	var scs []schedule
	err := p.get(ctx, "schedule.list", url.Values{"id": {svc.id()}, "scheduleType": {p.kind.name}}, &scs)
	return scs, err
}

// ensureSchedule finds or creates the job's schedule and gives it the
// job's command.
func (p *Provider) ensureSchedule(ctx context.Context, svc *service, j providers.Job) (*schedule, error) {
	jobName := j.Name
	if jobName == "" {
		jobName = "job"
	}
	want := schedule{Name: schedulePrefix + jobName, CronExpression: neverCron, Command: shellJoin(j.Command), ShellType: "sh"}
	scs, err := p.schedules(ctx, svc)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"name": want.Name, "cronExpression": want.CronExpression, "command": want.Command,
		"shellType": want.ShellType, "scheduleType": p.kind.name, p.kind.idKey: svc.id(), "enabled": false}
	if p.kind.name == "compose" {
		body["serviceName"] = p.c.ComposeService
	}
	for i := range scs {
		sc := &scs[i]
		if sc.Name != want.Name {
			continue
		}
		same := sc.Command == want.Command && sc.ShellType == want.ShellType && !sc.Enabled &&
			sc.CronExpression == want.CronExpression && (p.kind.name != "compose" || deref(sc.ServiceName) == p.c.ComposeService)
		if same {
			return sc, nil
		}
		body["scheduleId"] = sc.ScheduleID
		if err := p.post(ctx, "schedule.update", body, nil); err != nil {
			return nil, err
		}
		return sc, nil
	}
	var sc schedule
	if err := p.post(ctx, "schedule.create", body, &sc); err != nil {
		return nil, err
	}
	if sc.ScheduleID == "" { // an answer without the row: find it
		scs, err := p.schedules(ctx, svc)
		if err != nil {
			return nil, err
		}
		for i := range scs {
			if scs[i].Name == want.Name {
				return &scs[i], nil
			}
		}
		return nil, fmt.Errorf("schedule.create: schedule %q created but not listed", want.Name)
	}
	return &sc, nil
}

// RunningJobs lists the schedules of target's service with a run still
// running: Launchplane's by job name, others by schedule name.
func (p *Provider) RunningJobs(ctx context.Context, target string) ([]string, error) {
	jobs, err := p.runningJobs(ctx, target)
	return jobs, p.wrap("job", target, err)
}

func (p *Provider) runningJobs(ctx context.Context, target string) ([]string, error) {
	if err := p.ready(ctx); err != nil {
		return nil, err
	}
	svc, err := p.find(ctx, providers.AppRef{Target: target, Name: providers.ObjectName(target)})
	if err != nil || svc == nil {
		return nil, err
	}
	scs, err := p.schedules(ctx, svc)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sc := range scs {
		for _, d := range sc.Deployments {
			if deref(d.Status) == "running" {
				out = append(out, strings.TrimPrefix(sc.Name, schedulePrefix))
				break
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellJoin quotes args for sh -c: the command runs exactly as given.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if shellSafe.MatchString(a) {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
