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
