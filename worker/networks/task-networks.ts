// What a task's container needs from the overlay, read from the task and the network views. Pure.
import { overlayParams, type Task } from '../../api/index.js';

export interface TaskAttachment {
  networkId: string;
  networkName: string;
  vni: number;
  subnet: string;
  gateway: string;
  /** The task's address on the network, with prefix length (e.g. 198.19.1.5/24). */
  address: string;
  /** Interface name inside the container: eth0, eth1… in the order of the task's attachments, as Docker. */
  ifname: string;
  /** `--internal`: no traffic leaves the overlay. */
  internal: boolean;
}

/** The overlay attachments of a task whose networks are allocated; in the order the allocator wrote them. */
export function taskAttachments(task: Task): TaskAttachment[] {
  const out: TaskAttachment[] = [];
  for (const a of task.NetworksAttachments ?? []) {
    const p = overlayParams(a.Network);
    const address = a.Addresses[0];
    if (!p || !address) continue;
    out.push({
      networkId: a.Network.ID,
      networkName: a.Network.Spec.Name,
      ...p,
      address: address.includes('/') ? address : `${address}/${p.subnet.split('/')[1]}`,
      ifname: `eth${out.length}`,
      internal: !!a.Network.Spec.Internal,
    });
  }
  return out;
}

/** A named network namespace for a task's container; unique per node (lab hosts share /run/netns). */
export function taskNetnsName(nodeId: string, taskId: string): string {
  return `tss-t-${nodeId.slice(0, 8)}-${taskId.slice(0, 12)}`;
}

/** The container's resolv.conf: the node's resolver on the gateway bridge, as Docker's 127.0.0.11. */
export function resolvConf(nameserver: string): string {
  return `# written by tsswarm: names of services on the task's networks, others forwarded\nnameserver ${nameserver}\noptions ndots:0\n`;
}
