/** Media types of the KMC protocol endpoint (POST /kmc). */
export const KMC_REQUEST_TYPE = 'application/x-kmc-request';
export const KMC_RESPONSE_TYPE = 'application/x-kmc-response';
