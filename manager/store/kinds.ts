// The object kinds the store replicates, and how each is indexed.
import type { Node, Service, Task, Network, Secret, Config, Swarm } from '../../api/index.js';

export interface KindMap {
  node: Node;
  service: Service;
  task: Task;
  network: Network;
  secret: Secret;
  config: Config;
  cluster: Swarm;
}

export type Kind = keyof KindMap;
export type StoredObject = KindMap[Kind];

export const KINDS: readonly Kind[] = ['cluster', 'node', 'network', 'secret', 'config', 'service', 'task'];

/** Secondary indexes per kind: index name → key(s) of an object. */
export const INDEXES: { [K in Kind]: Record<string, (o: KindMap[K]) => string | string[] | undefined> } = {
  cluster: { name: (o) => o.Spec.Name },
  node: {
    name: (o) => o.Description?.Hostname,
    role: (o) => o.Spec.Role,
    label: (o) => Object.entries(o.Spec.Labels ?? {}).map(([k, v]) => `${k}=${v}`),
  },
  network: { name: (o) => o.Spec.Name },
  secret: { name: (o) => o.Spec.Name },
  config: { name: (o) => o.Spec.Name },
  service: {
    name: (o) => o.Spec.Name,
    label: (o) => Object.entries(o.Spec.Labels ?? {}).map(([k, v]) => `${k}=${v}`),
  },
  task: {
    service: (o) => o.ServiceID,
    node: (o) => o.NodeID,
    desiredState: (o) => o.DesiredState,
    slot: (o) =>
      o.Slot !== undefined
        ? `${o.ServiceID}/${o.Slot}`
        : o.NodeID
          ? `${o.ServiceID}/node:${o.NodeID}`
          : undefined,
  },
};

/** Kinds whose names are unique, with Docker's conflict wording. */
export const UNIQUE_NAME: Partial<Record<Kind, (name: string) => string>> = {
  service: (n) => `service ${n} already exists`,
  network: (n) => `network with name ${n} already exists`,
  secret: (n) => `secret ${n} already exists`,
  config: (n) => `config ${n} already exists`,
};
