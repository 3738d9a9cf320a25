SELECT 1; -- reserved: stream tokens
