import type { Annotations, Driver, Meta } from './common.js';

export interface IPAMConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface IPAMOptions {
  Driver: Driver;
  Configs?: IPAMConfig[];
}

export interface NetworkSpec extends Annotations {
  DriverConfiguration?: Driver;
  IPv6Enabled?: boolean;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  IPAMOptions?: IPAMOptions;
  Scope?: 'swarm';
}

export interface Network extends Meta {
  Spec: NetworkSpec;
  DriverState: Driver;
  IPAMOptions?: IPAMOptions;
}

// What the dispatcher tells a node about each overlay network it takes part in (see
// manager/dispatcher/network-views.ts): the node programs its data plane, DNS and load balancer from it.

export interface NetworkPeer {
  /** The task's (or node load balancer's) address on the network, without prefix length. */
  ip: string;
  /** The underlay address of the node it is on. */
  nodeAddr: string;
}

export interface ServiceBackend {
  taskId: string;
  /** The task's name (`<service>.<slot>.<task id>`), which DNS answers too. */
  name: string;
  ip: string;
}

export interface ServicePortView {
  protocol: 'tcp' | 'udp' | 'sctp';
  target: number;
  published?: number;
  mode: 'ingress' | 'host';
}

export interface ServiceView {
  id: string;
  name: string;
  mode: 'vip' | 'dnsrr';
  /** The service's VIP on this network (vip mode). */
  vip?: string;
  aliases: string[];
  ports: ServicePortView[];
  /** RUNNING tasks (a task with a health check is only RUNNING once healthy): the ones that get traffic. */
  backends: ServiceBackend[];
}

export interface NetworkView {
  id: string;
  name: string;
  vni: number;
  subnet: string;
  gateway: string;
  ingress: boolean;
  internal: boolean;
  peers: NetworkPeer[];
  services: ServiceView[];
  /** The receiving node's own address on the network (its load-balancer address on ingress), if it has one. */
  nodeAddress?: string;
}
