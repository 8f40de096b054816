# tflint's bundled Terraform ruleset only: it runs offline. The AWS ruleset
# (tflint-ruleset-aws) is a plugin downloaded from GitHub by `tflint --init`;
# an operator with network access may add it here.
config {
  call_module_type = "none"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
