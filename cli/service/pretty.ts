// `service inspect --pretty`, in the docker CLI's layout.
import { formatDuration, type Service } from '../../api/index.js';
import { modeText } from './render.js';

export function prettyService(s: Service): string {
  const spec = s.Spec;
  const c = spec.TaskTemplate.ContainerSpec;
  const lines = [`ID:\t\t${s.ID}`, `Name:\t\t${spec.Name}`];
  const labels = Object.entries(spec.Labels ?? {});
  if (labels.length) lines.push('Labels:', ...labels.map(([k, v]) => ` ${k}=${v}`));
  lines.push(`Service Mode:\t${modeText(s).replace(/^./, (x) => x.toUpperCase())}`);
  if (spec.Mode?.Replicated) lines.push(` Replicas:\t${spec.Mode.Replicated.Replicas}`);
  if (s.UpdateStatus) {
    lines.push('UpdateStatus:', ` State:\t\t${s.UpdateStatus.State}`);
    if (s.UpdateStatus.StartedAt) lines.push(` Started:\t${s.UpdateStatus.StartedAt}`);
    if (s.UpdateStatus.Message) lines.push(` Message:\t${s.UpdateStatus.Message}`);
  }
  const constraints = spec.TaskTemplate.Placement?.Constraints ?? [];
  lines.push('Placement:');
  if (constraints.length) lines.push(` Constraints:\t[${constraints.join(' ')}]`);
  for (const [title, u] of [
    ['UpdateConfig', spec.UpdateConfig],
    ['RollbackConfig', spec.RollbackConfig],
  ] as const) {
    if (!u) continue;
    lines.push(`${title}:`, ` Parallelism:\t${u.Parallelism ?? 1}`);
    if (u.Delay) lines.push(` Delay:\t\t${formatDuration(u.Delay)}`);
    lines.push(
      ` On failure:\t${u.FailureAction ?? 'pause'}`,
      ` Monitoring Period: ${formatDuration(u.Monitor ?? 5e9)}`,
    );
    lines.push(
      ` Max failure ratio: ${u.MaxFailureRatio ?? 0}`,
      ` ${title === 'UpdateConfig' ? 'Update' : 'Rollback'} order:      ${u.Order ?? 'stop-first'}`,
    );
  }
  lines.push('ContainerSpec:', ` Image:\t\t${c?.Image ?? ''}`);
  if (c?.Args?.length) lines.push(` Args:\t\t${c.Args.join(' ')} `);
  if (c?.Env?.length) lines.push(` Env:\t\t${c.Env.join(' ')}`);
  if (c?.User) lines.push(` User: ${c.User}`);
  if (c?.Dir) lines.push(` Dir: ${c.Dir}`);
  for (const m of c?.Mounts ?? [])
    lines.push(
      'Mounts:',
      ` Target:\t${m.Target}`,
      `  Source:\t${m.Source ?? ''}`,
      `  ReadOnly:\t${m.ReadOnly ?? false}`,
      `  Type:\t\t${m.Type}`,
    );
  const r = spec.TaskTemplate.Resources;
  if (r?.Limits && Object.keys(r.Limits).length) {
    lines.push('Resources:', ' Limits:');
    if (r.Limits.NanoCPUs) lines.push(`  CPU:\t\t${r.Limits.NanoCPUs / 1e9}`);
    if (r.Limits.MemoryBytes) lines.push(`  Memory:\t${r.Limits.MemoryBytes / 1024 / 1024}MiB`);
  }
  lines.push(`Endpoint Mode:\t${spec.EndpointSpec?.Mode ?? 'vip'}`);
  const ports = s.Endpoint?.Ports ?? spec.EndpointSpec?.Ports ?? [];
  if (ports.length) {
    lines.push('Ports:');
    for (const p of ports)
      lines.push(
        ` PublishedPort = ${p.PublishedPort ?? 0}`,
        `  Protocol = ${p.Protocol ?? 'tcp'}`,
        `  TargetPort = ${p.TargetPort}`,
        `  PublishMode = ${p.PublishMode ?? 'ingress'}`,
      );
  }
  return lines.join('\n');
}
