import type { Annotations, Driver, Meta } from './common.js';

export interface SecretSpec extends Annotations {
  /** Base64 of the secret's bytes, as the API carries it. Never returned by inspect. */
  Data?: string;
  Driver?: Driver;
  Templating?: Driver;
}

export interface Secret extends Meta {
  Spec: SecretSpec;
}

export interface ConfigSpec extends Annotations {
  Data: string;
  Templating?: Driver;
}

export interface Config extends Meta {
  Spec: ConfigSpec;
}
