export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';
export const PRODUCT_VERSION = '0.1.0';
