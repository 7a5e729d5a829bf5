import { useState } from 'react';
import { Form, useNavigation } from 'react-router';

/**
 * Makes an invite link on demand and shows it once made, with a button that copies it (the field can be
 * selected and copied by hand too, without JavaScript).
 */
export function InviteLink({ invite }: { invite: { link: string; expiresAt: string } | null }) {
  const [copied, setCopied] = useState(false);
  const busy = useNavigation().formData?.get('intent') === 'invite';
  if (!invite) {
    return (
      <Form method="post" className="invite-form">
        <input type="hidden" name="intent" value="invite" />
        <button type="submit" className="secondary" disabled={busy}>
          {busy ? 'Making a link…' : 'Invite someone'}
        </button>
      </Form>
    );
  }
  return (
    <div className="invite">
      <label htmlFor="invite-link">
        Invite link (shown once; it works until {new Date(invite.expiresAt).toUTCString().slice(5, 22)} UTC)
      </label>
      <div className="invite-row">
        <input
          id="invite-link"
          readOnly
          value={invite.link}
          onFocus={(event) => event.currentTarget.select()}
        />
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard.writeText(invite.link).then(() => setCopied(true));
          }}
        >
          {copied ? 'Copied' : 'Copy link'}
        </button>
      </div>
    </div>
  );
}
