# A JupyterLab terminal of the course (the write-up's CloudShell): it starts on the
# learner's lab. Shipped with the course; `make lab` points JupyterLab here.
[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"

_labkit_fence() {
  # Nothing in this terminal may reach a real account by accident: no credentials,
  # no profiles from ~/.aws, and a proxy that goes nowhere.
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
        AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME \
        AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
        AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_ENDPOINT_URL
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
         AWS_EC2_METADATA_DISABLED=true HTTPS_PROXY=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
}

if [ "${LABKIT_TARGET:-emulator}" = "aws" ] && [ -n "${LABKIT_AWS_ACCOUNT:-}" ]; then
  echo "labkit: LABKIT_TARGET=aws was set for this session: the AWS CLI here uses your REAL"
  echo "        account ${LABKIT_AWS_ACCOUNT} (it costs money and changes real resources)."
else
  _labkit_fence
  if _labkit_env="$("${LABKIT_PYTHON:-python3}" -m labkit emulator env --start \
                    ${LABKIT_NAME:+--name "$LABKIT_NAME"})"; then
    eval "$_labkit_env"
    # While this terminal is open the lab is in use: it does not stop as idle.
    _labkit_clients="$(dirname "$(dirname "$AWS_CONFIG_FILE")")/clients"
    mkdir -p "$_labkit_clients" && touch "$_labkit_clients/$$"
    unset _labkit_clients
    echo "labkit: this terminal is on the lab of ${LABKIT_NAME} (offline emulator, shared with"
    echo "        your notebooks). Try: aws --profile analyst-${LABKIT_NAME} sts get-caller-identity"
  else
    echo "labkit: could not reach your lab (see above); the AWS CLI here reaches nothing."
    echo "        Retry with: eval \"\$(labkit emulator env --start --name NAME)\""
  fi
  unset _labkit_env
fi
unset -f _labkit_fence
