/** The platform's feedback module: complaints about CAs' service quality (Art. 11). */
export { COMPLAINANT_KINDS, COMPLAINT_CATEGORIES, COMPLAINT_LIMITS, COMPLAINT_STATUSES, Complaints, checkSubmission, type Complaint, type ComplaintCounts, type ComplaintStep, type ComplaintStatus } from './complaints.js';
export { SubmissionLimiter, SubmissionRateError } from './limiter.js';
export { COMPLAINT_BODY_LIMIT, registerFeedbackRoutes, type FeedbackRouteDeps } from './routes.js';
export { feedbackMigrations } from './tables.js';
