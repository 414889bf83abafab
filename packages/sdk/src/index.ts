/** @health-pki/sdk: what a health information system embeds to rely on any admitted CA's certificates. */
export {};
