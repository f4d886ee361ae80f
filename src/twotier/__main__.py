from twotier.cli.program import console

console()
