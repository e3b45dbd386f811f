// Tables for `service ls` and `service ps`, as the docker CLI prints them.
import { shortId, type Node, type PortConfig, type Service, type Task } from '../../api/index.js';
import { ago } from '../human-time.js';

export function portsText(ports: PortConfig[] | undefined): string {
  return (ports ?? [])
    .filter((p) => p.PublishedPort)
    .map((p) => `*:${p.PublishedPort}->${p.TargetPort}/${p.Protocol ?? 'tcp'}`)
    .join(', ');
}

export function modeText(s: Service): string {
  const m = s.Spec.Mode ?? {};
  if (m.Global) return 'global';
  if (m.ReplicatedJob) return 'replicated job';
  if (m.GlobalJob) return 'global job';
  return 'replicated';
}

export function replicasText(s: Service): string {
  const st = s.ServiceStatus;
  if (!st) return '';
  const m = s.Spec.Mode ?? {};
  let text = `${st.RunningTasks}/${st.DesiredTasks}`;
  if (m.ReplicatedJob) text += ` (${st.CompletedTasks}/${m.ReplicatedJob.TotalCompletions ?? 0} completed)`;
  if (m.GlobalJob) text += ` (${st.CompletedTasks}/${st.DesiredTasks} completed)`;
  const max = s.Spec.TaskTemplate.Placement?.MaxReplicas;
  if (max) text += ` (max ${max} per node)`;
  return text;
}

/** Image without the digest the manager may have pinned. */
export function imageText(image: string | undefined): string {
  return (image ?? '').replace(/@sha256:[0-9a-f]+$/, '');
}

export function serviceRow(s: Service): string[] {
  return [
    shortId(s.ID),
    s.Spec.Name,
    modeText(s),
    replicasText(s),
    imageText(s.Spec.TaskTemplate.ContainerSpec?.Image),
    portsText(s.Endpoint?.Ports ?? s.Spec.EndpointSpec?.Ports),
  ];
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Rows of `service ps`: newest task per slot first, older ones indented with " \_ " as Docker does. */
export function taskRows(
  tasks: Task[],
  services: Map<string, Service>,
  nodes: Map<string, Node>,
  opts: { noTrunc?: boolean } = {},
): string[][] {
  const groups = new Map<string, Task[]>();
  for (const t of tasks) {
    const key = `${t.ServiceID}/${t.Slot ?? t.NodeID}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  const rows: string[][] = [];
  const ordered = [...groups.values()].sort((a, b) => {
    const sa = services.get(a[0]!.ServiceID)?.Spec.Name ?? '';
    const sb = services.get(b[0]!.ServiceID)?.Spec.Name ?? '';
    return sa.localeCompare(sb) || (a[0]!.Slot ?? 0) - (b[0]!.Slot ?? 0);
  });
  for (const group of ordered) {
    group.sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt));
    for (const [i, t] of group.entries()) {
      const svc = services.get(t.ServiceID);
      const base = `${svc?.Spec.Name ?? t.ServiceID}.${t.Slot ?? t.NodeID}`;
      const node = t.NodeID ? (nodes.get(t.NodeID)?.Description.Hostname ?? t.NodeID) : '';
      const err = t.Status.Err ?? '';
      rows.push([
        opts.noTrunc ? t.ID : shortId(t.ID),
        i === 0 ? base : ` \\_ ${base}`,
        imageText(t.Spec.ContainerSpec?.Image),
        node,
        cap(t.DesiredState),
        `${cap(t.Status.State)} ${ago(t.Status.Timestamp)}`.trim(),
        opts.noTrunc || err.length <= 30 ? (err ? `"${err}"` : '') : `"${err.slice(0, 29)}…"`,
        portsText(t.Status.PortStatus?.Ports),
      ]);
    }
  }
  return rows;
}
