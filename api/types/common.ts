// Shapes shared by every stored object, as the Docker Engine API v1.50 returns them.

export interface Version {
  Index: number;
}

/** Common metadata of a stored object. Spec is desired state; the rest is observed. */
export interface Meta {
  ID: string;
  Version: Version;
  CreatedAt: string;
  UpdatedAt: string;
}

export type Labels = Record<string, string>;

export interface Annotations {
  Name: string;
  Labels?: Labels;
}

/** A Go time.Duration as the API carries it: nanoseconds. */
export type DurationNs = number;

export interface Platform {
  Architecture?: string;
  OS?: string;
}

export interface Driver {
  Name: string;
  Options?: Record<string, string>;
}
