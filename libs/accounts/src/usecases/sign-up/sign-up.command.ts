export interface SignUpCommand {
  signupCode: string;
  username: string;
  password: string;
}
